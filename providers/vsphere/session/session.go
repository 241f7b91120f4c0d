package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Params says how to reach and authenticate to a vCenter.
type Params struct {
	// Server is the vCenter host[:port] or https URL; the /sdk path is added.
	Server string
	// Username and Password are the vCenter SSO credentials.
	Username string
	Password string
	// CAFile is a PEM bundle the vCenter certificate must chain to.
	CAFile string
	// Thumbprint pins the vCenter certificate's SHA-1 thumbprint instead.
	Thumbprint string
	// Insecure skips certificate verification. Only by explicit choice.
	Insecure bool
	// UserAgent identifies the supervisor in vCenter's session list.
	UserAgent string
}

// URL is the SDK endpoint without credentials.
func (p Params) URL() (*url.URL, error) {
	u, err := soap.ParseURL(p.Server)
	if err != nil {
		return nil, fmt.Errorf("failed to parse vCenter server %q: %w", p.Server, err)
	}
	if u == nil {
		return nil, errors.New("vCenter server is empty")
	}
	u.User = nil
	return u, nil
}

func (p Params) key() string {
	sum := sha256.Sum256([]byte(p.Password))
	return p.Server + "#" + p.Username + "#" + hex.EncodeToString(sum[:8])
}

// Stats counts what the process asked of vCenter; benchmarks read it.
type Stats struct {
	calls    sync.Map // method name -> *atomic.Int64
	Sessions atomic.Int64
}

// Calls returns the number of SOAP calls per method.
func (s *Stats) Calls() map[string]int64 {
	out := map[string]int64{}
	s.calls.Range(func(k, v any) bool { out[k.(string)] = v.(*atomic.Int64).Load(); return true })
	return out
}

func (s *Stats) count(method string) {
	v, _ := s.calls.LoadOrStore(method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// Cache holds the sessions of the process.
type Cache struct {
	mu       sync.Mutex
	sessions map[string]*Session
	// Stats counts calls and logins across all sessions.
	Stats Stats
}

// NewCache returns an empty session cache.
func NewCache() *Cache { return &Cache{sessions: map[string]*Session{}} }

// Session is one authenticated vCenter client that re-logs in on demand.
type Session struct {
	// Client is the vim25 client; safe for concurrent use.
	Client *vim25.Client

	params  Params
	stats   *Stats
	loginMu sync.Mutex
	// generation counts logins, so that concurrent callers that all saw
	// NotAuthenticated log in only once.
	generation atomic.Int64

	restMu sync.Mutex
	rest   *rest.Client
	// restGeneration counts REST clients, so that callers that all saw a
	// 401 renew it once.
	restGeneration int64
}

// Get returns the cached session for p, logging in the first time.
func (c *Cache) Get(ctx context.Context, p Params) (*Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sessions[p.key()]; ok {
		return s, nil
	}
	s, err := newSession(ctx, p, &c.Stats)
	if err != nil {
		return nil, err
	}
	c.sessions[p.key()] = s
	return s, nil
}

// Logout ends every cached session; used on shutdown so that vCenter's
// session count does not grow with supervisor restarts.
func (c *Cache) Logout(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.sessions {
		// A REST client riding on the SOAP session ends with it.
		if s.rest != nil && !SharesSOAPSession(s.Client) {
			_ = s.rest.Logout(ctx)
		}
		_ = session.NewManager(s.Client).Logout(ctx)
		delete(c.sessions, k)
	}
}

// maxIdleConnsPerVCenter is how many connections to vCenter a session
// keeps open between calls: about as many as calls run at once (the VM
// service reconciles 32 VMs at a time).
const maxIdleConnsPerVCenter = 64

func newSession(ctx context.Context, p Params, stats *Stats) (*Session, error) {
	u, err := p.URL()
	if err != nil {
		return nil, err
	}
	sc := soap.NewClient(u, p.Insecure)
	// govmomi's transport keeps Go's default of 2 idle connections per
	// host: with reconcilers calling at once, every other call dialed a new
	// TLS connection (100 VMs at once: 15 % of the process's CPU went to
	// handshakes with vCenter).
	sc.DefaultTransport().MaxIdleConnsPerHost = maxIdleConnsPerVCenter
	if p.CAFile != "" {
		if err := sc.SetRootCAs(p.CAFile); err != nil {
			return nil, fmt.Errorf("failed to load vCenter CA bundle %s: %w", p.CAFile, err)
		}
	}
	if p.Thumbprint != "" {
		sc.SetThumbprint(u.Host, p.Thumbprint)
	}
	if p.UserAgent != "" {
		sc.UserAgent = p.UserAgent
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to vCenter %s: %w", u, err)
	}
	s := &Session{Client: vc, params: p, stats: stats}
	vc.RoundTripper = &reloginRoundTripper{next: vc.RoundTripper, session: s}
	if err := s.login(ctx, s.generation.Load()); err != nil {
		return nil, err
	}
	return s, nil
}

// login logs in unless another caller already did since generation seen.
func (s *Session) login(ctx context.Context, seen int64) error {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if s.generation.Load() != seen {
		return nil
	}
	u, _ := s.params.URL()
	log := ctrl.LoggerFrom(ctx).WithValues("vcenter", u.String(), "username", s.params.Username)
	log.Info("Logging in to vCenter")
	if err := session.NewManager(s.Client).Login(ctx, url.UserPassword(s.params.Username, s.params.Password)); err != nil {
		return fmt.Errorf("failed to log in to vCenter %s as %s: %w", u, s.params.Username, err)
	}
	s.stats.Sessions.Add(1)
	reason := "new"
	if s.generation.Add(1) > 1 {
		reason = "relogin"
	}
	vcenterLogins.WithLabelValues(reason).Inc()
	return nil
}

// reloginRoundTripper counts calls and answers NotAuthenticated with one
// login and one retry.
type reloginRoundTripper struct {
	next    soap.RoundTripper
	session *Session
}

func (rt *reloginRoundTripper) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	method := methodName(req)
	seen := rt.session.generation.Load()
	err := rt.call(ctx, method, req, res)
	if method == "Login" || method == "Logout" || !notAuthenticated(err, res) {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("vCenter session is no longer valid, logging in again", "method", method)
	if lerr := rt.session.login(ctx, seen); lerr != nil {
		return lerr
	}
	// The first answer was decoded into res; decode the retry into a fresh
	// value so its fault does not linger.
	fresh := reflect.New(reflect.TypeOf(res).Elem()).Interface().(soap.HasFault)
	if err := rt.call(ctx, method, req, fresh); err != nil {
		return err
	}
	reflect.ValueOf(res).Elem().Set(reflect.ValueOf(fresh).Elem())
	return nil
}

// call makes one SOAP call and counts it.
func (rt *reloginRoundTripper) call(ctx context.Context, method string, req, res soap.HasFault) error {
	rt.session.stats.count(method)
	err := rt.next.RoundTrip(ctx, req, res)
	vcenterCalls.WithLabelValues(method, callResult(err, soap.IsSoapFault(err) || soap.IsVimFault(err))).Inc()
	return err
}

// notAuthenticated reports whether a call failed for want of a session:
// either as a fault or, for property retrieval, as NotAuthenticated in every
// object's missing set (vCenter answers reads that way).
func notAuthenticated(err error, res soap.HasFault) bool {
	if err != nil {
		return fault.Is(err, &types.NotAuthenticated{})
	}
	var contents []types.ObjectContent
	switch r := res.(type) {
	case *methods.RetrievePropertiesExBody:
		if r.Res != nil && r.Res.Returnval != nil {
			contents = r.Res.Returnval.Objects
		}
	case *methods.RetrievePropertiesBody:
		if r.Res != nil {
			contents = r.Res.Returnval
		}
	}
	for _, oc := range contents {
		for _, m := range oc.MissingSet {
			if _, ok := m.Fault.Fault.(*types.NotAuthenticated); ok {
				return true
			}
		}
	}
	return false
}

func methodName(req soap.HasFault) string {
	name := fmt.Sprintf("%T", req)
	// "*methods.CloneVM_TaskBody" -> "CloneVM_Task"
	if i := len("*methods."); len(name) > i {
		name = name[i:]
	}
	if n := len(name) - len("Body"); n > 0 && name[n:] == "Body" {
		name = name[:n]
	}
	return name
}
