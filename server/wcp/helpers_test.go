package wcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

const (
	testIssuer   = "https://192.168.10.2/openid"
	testAudience = "vmware-tes:vc:vns:k8s"
)

var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	devs   = Principal{Name: "devs", Domain: "vsphere.local"}
	admins = Principal{Name: "Administrators", Domain: "vsphere.local"}
)

// fakeAuthenticator knows users by name@domain and their passwords.
type fakeAuthenticator struct {
	mu          sync.Mutex
	users       map[string]fakeUser // user@domain -> user
	unavailable bool
	calls       int
}

type fakeUser struct {
	password string
	groups   []Principal
}

func (f *fakeAuthenticator) Authenticate(_ context.Context, username, password string) (Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.unavailable {
		return Identity{}, ErrIdentityUnavailable
	}
	p, err := ParseUsername(username)
	if err != nil {
		return Identity{}, ErrInvalidCredentials
	}
	u, ok := f.users[p.String()]
	if !ok || u.password != password {
		return Identity{}, ErrInvalidCredentials
	}
	return Identity{User: p.Name, Domain: p.Domain, Groups: u.groups}, nil
}

func (f *fakeAuthenticator) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func testUsers() *fakeAuthenticator {
	return &fakeAuthenticator{users: map[string]fakeUser{
		"alice@vsphere.local":         {password: "alice-pw", groups: []Principal{devs}},
		"bob@vsphere.local":           {password: "bob-pw"},
		"carol@vsphere.local":         {password: "carol-pw"},
		"administrator@vsphere.local": {password: "admin-pw", groups: []Principal{admins}},
	}}
}

// env is a login service on a fake API server.
type env struct {
	server *Server
	client client.Client
	keys   *KeySet
	clock  *clocktesting.FakeClock
	auth   *fakeAuthenticator
	// ctx, when set, is every request's context (to capture logs).
	ctx context.Context
}

type envOption func(*Options)

func newEnv(t *testing.T, objs []client.Object, opts ...envOption) *env {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(objs...).Build()
	clk := clocktesting.NewFakeClock(testStart)
	keys, err := NewKeySet(KeySetOptions{Client: c, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Ensure(context.Background()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	auth := testUsers()
	o := Options{
		Reader: c, Authenticator: auth, Keys: keys, Clock: clk,
		Tokens: TokenOptions{IssuerURL: testIssuer, Audience: testAudience},
	}
	for _, opt := range opts {
		opt(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{server: s, client: c, keys: keys, clock: clk, auth: auth}
}

// do sends a request to the service as from 10.0.0.9.
func (e *env) do(method, path string, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "10.0.0.9:51234"
	if e.ctx != nil {
		r = r.WithContext(e.ctx)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.server.ServeHTTP(w, r)
	return w
}

func basic(user, password string) http.Header {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, password)
	return http.Header{"Authorization": r.Header["Authorization"], "Content-Type": {"application/json"}}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// login logs in and returns the token, failing the test otherwise.
func (e *env) login(t *testing.T, user, password string) string {
	t.Helper()
	w := e.do(http.MethodPost, "/wcp/login", "{}", basic(user, password))
	if w.Code != http.StatusOK {
		t.Fatalf("login as %s: %d %s", user, w.Code, w.Body)
	}
	var resp LoginResponse
	decode(t, w, &resp)
	if resp.SessionID == "" {
		t.Fatalf("login as %s: empty session_id", user)
	}
	return resp.SessionID
}

func decode(t *testing.T, w *httptest.ResponseRecorder, into any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), into); err != nil {
		t.Fatalf("decoding %q: %v", w.Body, err)
	}
}

// wantJSONError checks an error answer's status and JSON body.
func wantJSONError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) ErrorBody {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body ErrorBody
	decode(t, w, &body)
	if body.Error != code || body.Message == "" {
		t.Errorf("body = %+v, want error %q with a message", body, code)
	}
	return body
}

func supervisor(name, endpoint, banner string, dnsNames ...string) *vspherev1.Supervisor {
	return &vspherev1.Supervisor{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       vspherev1.SupervisorSpec{LoginBanner: banner, MasterDNSNames: dnsNames},
		Status:     vspherev1.SupervisorStatus{APIServerClusterEndpoint: endpoint},
	}
}

func vsphereNamespace(name, cluster string, access ...vspherev1.Access) *vspherev1.VSphereNamespace {
	return &vspherev1.VSphereNamespace{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       vspherev1.VSphereNamespaceSpec{Cluster: cluster, AccessList: access},
	}
}

func user(name, role string) vspherev1.Access {
	return vspherev1.Access{SubjectType: vspherev1.SubjectTypeUser, Subject: name, Domain: "vsphere.local", Role: role}
}

func group(name, role string) vspherev1.Access {
	return vspherev1.Access{SubjectType: vspherev1.SubjectTypeGroup, Subject: name, Domain: "vsphere.local", Role: role}
}
