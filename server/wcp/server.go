package wcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/httpmetrics"
	"github.com/open-supervisor/supervisor/internal/retry"
)

// DefaultAdministratorsGroup is vCenter's administrators group: its members
// see every vSphere Namespace.
const DefaultAdministratorsGroup = vspherev1.AdministratorsGroup + "@" + vspherev1.SSODefaultDomain

// APIServerPort is the port of the Supervisor's kube-apiserver on the
// endpoint VIP.
const APIServerPort = "6443"

// Options configure the login service.
type Options struct {
	// Reader reads VSphereNamespaces, Supervisors, TanzuKubernetesClusters,
	// Cluster API Clusters and the guest clusters' CA Secrets; the
	// manager's cache serves it.
	Reader client.Reader
	// Authenticator checks Basic credentials (vCenter).
	Authenticator Authenticator
	// Keys sign the tokens; Ensure must have run before the first login.
	Keys *KeySet
	// Tokens are the issuer URL and audience of the tokens. The discovery
	// document and the JWKS are served under the issuer URL's path.
	Tokens TokenOptions
	// AdministratorsGroup (group@domain) sees every vSphere Namespace and
	// may log in to every guest cluster; DefaultAdministratorsGroup when
	// empty.
	AdministratorsGroup string
	// Supervisor names the Supervisor whose login banner is served; when
	// empty, the one whose endpoint or DNS names the request's host is, or
	// the only one.
	Supervisor string
	// RateLimits bound credential checks; DefaultRateLimits when nil.
	RateLimits *RateLimits
	// Clock is the time; the real one when nil. Tokens.Clock defaults to
	// it.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=vspherenamespaces;supervisors,verbs=get;list;watch
// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters,verbs=get;list;watch

// Server is the login service: /wcp/login, /wcp/workloads,
// /wcp/loginbanner and the issuer's OIDC discovery.
type Server struct {
	reader   client.Reader
	auth     Authenticator
	keys     *KeySet
	tokens   TokenOptions
	issuer   *TokenIssuer
	verifier *TokenVerifier
	admins   Principal
	pinned   string
	limiter  *credentialLimiter
	clock    clock.PassiveClock
	mux      *http.ServeMux
}

// New returns the login service's handler.
func New(o Options) (*Server, error) {
	if o.Reader == nil || o.Authenticator == nil || o.Keys == nil {
		return nil, errors.New("the login service needs a Reader, an Authenticator and a KeySet")
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Tokens.Clock == nil {
		o.Tokens.Clock = o.Clock
	}
	if o.AdministratorsGroup == "" {
		o.AdministratorsGroup = DefaultAdministratorsGroup
	}
	admins, err := ParseUsername(o.AdministratorsGroup)
	if err != nil {
		return nil, fmt.Errorf("administrators group: %w", err)
	}
	limits := DefaultRateLimits
	if o.RateLimits != nil {
		limits = *o.RateLimits
	}
	s := &Server{
		reader: o.Reader, auth: o.Authenticator, keys: o.Keys, tokens: o.Tokens,
		admins: admins, pinned: o.Supervisor, limiter: newCredentialLimiter(limits),
		clock: o.Clock, mux: http.NewServeMux(),
	}
	if s.issuer, err = NewTokenIssuer(o.Keys, o.Tokens); err != nil {
		return nil, err
	}
	if s.verifier, err = NewTokenVerifier(o.Keys, o.Tokens); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Verifier is the verifier of the tokens the service issues.
func (s *Server) Verifier() *TokenVerifier { return s.verifier }

// ServeHTTP serves the login service.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.mux.HandleFunc("POST /wcp/login", httpmetrics.Time("wcp", "/wcp/login", s.login))
	s.mux.HandleFunc("GET /wcp/workloads", httpmetrics.Time("wcp", "/wcp/workloads", s.workloads))
	s.mux.HandleFunc("GET /wcp/loginbanner", httpmetrics.Time("wcp", "/wcp/loginbanner", s.banner))
	base := issuerPath(s.tokens.IssuerURL)
	s.mux.HandleFunc("GET "+base+DiscoveryPath, s.serveDiscovery)
	s.mux.HandleFunc("GET "+base+JWKSPath, s.serveJWKS)
}

// NewHTTPServer returns an http.Server for the login service on addr with
// timeouts that bound slow clients.
func NewHTTPServer(addr string, h http.Handler, tlsConfig *tls.Config) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Runnable returns a manager.Runnable, run on every replica, that makes
// sure the signing keys exist and then serves srv over TLS (srv.TLSConfig
// holds the certificate) until the manager stops.
func (s *Server) Runnable(srv *http.Server) manager.Runnable {
	return &serving{keys: s.keys, srv: srv}
}

// RunnableOn is Runnable serving on a listener the caller opened (so that
// it knows the address before the manager starts).
func (s *Server) RunnableOn(srv *http.Server, ln net.Listener) manager.Runnable {
	return &serving{keys: s.keys, srv: srv, ln: ln}
}

type serving struct {
	keys *KeySet
	srv  *http.Server
	ln   net.Listener
}

func (r *serving) NeedLeaderElection() bool { return false }

func (r *serving) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithValues("addr", r.srv.Addr)
	if err := retry.UntilDone(ctx, "make sure the login service's signing keys exist", r.keys.Ensure); err != nil {
		return nil // stopped meanwhile
	}
	ln := r.ln
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", r.srv.Addr); err != nil {
			return fmt.Errorf("failed to listen on %s: %w", r.srv.Addr, err)
		}
	}
	errs := make(chan error, 1)
	go func() { errs <- r.srv.ServeTLS(ln, "", "") }()
	log.Info("Serving the login service")
	select {
	case err := <-errs:
		return fmt.Errorf("the login service stopped: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("failed to shut the login service down: %w", err)
	}
	return nil
}
