package wcp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/ssoadmin"
	ssotypes "github.com/vmware/govmomi/ssoadmin/types"
	"github.com/vmware/govmomi/sts"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"sigs.k8s.io/controller-runtime/pkg/client"

	// vCenter's SSO: the lookup service finds the SSO admin and token
	// services; the SSO admin simulator keeps users, passwords and groups
	// and checks every login against them.
	_ "github.com/vmware/govmomi/lookup/simulator"
	_ "github.com/vmware/govmomi/ssoadmin/simulator"
	_ "github.com/vmware/govmomi/sts/simulator"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// vcenter is a vcsim with SSO users alice (in devs) and administrator (in
// Administrators).
type vcenter struct {
	endpoint VCenterEndpoint
	// service is an administrator's session, for the group source.
	service *vim25.Client
}

// The SSO admin simulator files its default user under the Listen user
// name as given, so that name must carry no domain for
// administrator@vsphere.local to log in.
const vcAdmin, vcAdminPassword = "administrator", "admin-pw"

func startVCenter(t *testing.T) *vcenter {
	t.Helper()
	ctx := context.Background()
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Remove)
	m.Service.TLS = new(tls.Config)
	m.Service.RegisterEndpoints = true
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(vcAdmin, vcAdminPassword)}
	s := m.Service.NewServer()
	t.Cleanup(s.Close)
	caFile, err := s.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	vc := &vcenter{endpoint: VCenterEndpoint{URL: s.URL, CAFile: caFile}}
	if vc.service, err = vc.endpoint.newClient(ctx); err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(vc.service).Login(ctx, url.UserPassword(vcAdmin+"@vsphere.local", vcAdminPassword)); err != nil {
		t.Fatalf("administrator login: %v", err)
	}
	vc.addUsers(t)
	return vc
}

func (vc *vcenter) addUsers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	admin, err := ssoadmin.NewClient(ctx, vc.service)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := sts.NewClient(ctx, vc.service)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tokens.Issue(ctx, sts.TokenRequest{Userinfo: url.UserPassword(vcAdmin, vcAdminPassword)})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Login(admin.WithHeader(ctx, soap.Header{Security: signer})); err != nil {
		t.Fatal(err)
	}
	for _, step := range []error{
		admin.CreatePersonUser(ctx, "alice", ssotypes.AdminPersonDetails{}, "alice-pw"),
		admin.CreateGroup(ctx, "devs", ssotypes.AdminGroupDetails{}),
		admin.CreateGroup(ctx, "Administrators", ssotypes.AdminGroupDetails{}),
		admin.AddUsersToGroup(ctx, "devs", ssotypes.PrincipalId{Name: "alice", Domain: "vsphere.local"}),
		admin.AddUsersToGroup(ctx, "Administrators", ssotypes.PrincipalId{Name: vcAdmin, Domain: "vsphere.local"}),
	} {
		if step != nil {
			t.Fatalf("setting up SSO: %v", step)
		}
	}
}

func (vc *vcenter) groups() *SSOGroups {
	return NewSSOGroups(func(context.Context) (*vim25.Client, error) { return vc.service, nil },
		url.UserPassword(vcAdmin, vcAdminPassword))
}

// capturedLogs puts a logger writing into a buffer into a context.
func capturedLogs() (context.Context, *bytes.Buffer) {
	var buf bytes.Buffer
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(&buf, prefix, args) }, funcr.Options{Verbosity: 10})
	return logr.NewContext(context.Background(), log), &buf
}

func TestVCenterAuthenticator(t *testing.T) {
	vc := startVCenter(t)
	auth := NewVCenterAuthenticator(vc.endpoint, vc.groups())
	ctx, logs := capturedLogs()

	for _, name := range []string{"alice@vsphere.local", `VSPHERE.LOCAL\alice`, "alice"} {
		id, err := auth.Authenticate(ctx, name, "alice-pw")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := Identity{User: "alice", Domain: "vsphere.local", Groups: []Principal{devs}}
		if !reflect.DeepEqual(id, want) {
			t.Errorf("%s is %+v, want %+v", name, id, want)
		}
	}

	id, err := auth.Authenticate(ctx, "administrator@vsphere.local", vcAdminPassword)
	if err != nil || !id.InGroup(admins) {
		t.Errorf("administrator = %+v, %v; want a member of Administrators", id, err)
	}

	_, err = auth.Authenticate(ctx, "alice@vsphere.local", "wrong-pw-123")
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("a wrong password gives %v, want ErrInvalidCredentials", err)
	}
	if strings.Contains(err.Error(), "wrong-pw-123") {
		t.Errorf("the error holds the password: %v", err)
	}
	_, err = auth.Authenticate(ctx, "mallory@vsphere.local", "alice-pw")
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("an unknown user gives %v, want ErrInvalidCredentials", err)
	}
	for _, password := range []string{"alice-pw", "admin-pw", "wrong-pw-123"} {
		if strings.Contains(logs.String(), password) {
			t.Errorf("a password is in the logs:\n%s", logs)
		}
	}
}

func TestVCenterAuthenticatorUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := &url.URL{Scheme: "https", Host: ln.Addr().String(), Path: "/sdk"}
	_ = ln.Close()
	auth := NewVCenterAuthenticator(VCenterEndpoint{URL: closed, Insecure: true}, nil)
	if _, err := auth.Authenticate(context.Background(), "alice@vsphere.local", "alice-pw"); !errors.Is(err, ErrIdentityUnavailable) {
		t.Errorf("an unreachable vCenter gives %v, want ErrIdentityUnavailable", err)
	}

	vc := startVCenter(t)
	broken := NewSSOGroups(func(context.Context) (*vim25.Client, error) { return nil, errors.New("no session") }, url.UserPassword("x", "y"))
	auth = NewVCenterAuthenticator(vc.endpoint, broken)
	if _, err := auth.Authenticate(context.Background(), "alice@vsphere.local", "alice-pw"); !errors.Is(err, ErrIdentityUnavailable) {
		t.Errorf("unknown groups give %v, want ErrIdentityUnavailable", err)
	}
}

// TestLoginAgainstVCenter runs the service with the vCenter authenticator:
// the token's groups come from SSO and decide what /wcp/workloads lists.
func TestLoginAgainstVCenter(t *testing.T) {
	vc := startVCenter(t)
	objs := []client.Object{
		supervisor("domain-c8", "192.168.10.2", ""),
		vsphereNamespace("dev", "domain-c8", group("devs", vspherev1.RoleEdit)),
		vsphereNamespace("ops", "domain-c8", user("bob", vspherev1.RoleOwner)),
	}
	e := newEnv(t, objs, func(o *Options) { o.Authenticator = NewVCenterAuthenticator(vc.endpoint, vc.groups()) })
	var logs *bytes.Buffer
	e.ctx, logs = capturedLogs()

	wantJSONError(t, e.do(http.MethodPost, "/wcp/login", "", basic("alice@vsphere.local", "nope")), http.StatusUnauthorized, errUnauthenticated)
	alice := e.login(t, "alice@vsphere.local", "alice-pw")
	claims, err := e.server.Verifier().Verify(context.Background(), alice)
	if err != nil || claims.Subject != "alice@vsphere.local" || !reflect.DeepEqual(claims.Groups, []string{"devs@vsphere.local"}) {
		t.Fatalf("alice's token = %+v, %v", claims, err)
	}
	if got := namespaceNames(listWorkloads(t, e, bearer(alice))); !reflect.DeepEqual(got, []string{"dev"}) {
		t.Errorf("alice sees %v, want [dev]", got)
	}
	admin := e.login(t, "administrator@vsphere.local", vcAdminPassword)
	if got := namespaceNames(listWorkloads(t, e, bearer(admin))); !reflect.DeepEqual(got, []string{"dev", "ops"}) {
		t.Errorf("administrator sees %v, want every namespace", got)
	}

	if !strings.Contains(logs.String(), "Refused a login") || !strings.Contains(logs.String(), "Issued a login token") {
		t.Errorf("the logins are not logged:\n%s", logs)
	}
	for _, secret := range []string{"alice-pw", vcAdminPassword, "nope", alice, admin} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a password or token is in the logs:\n%s", logs)
		}
	}
}
