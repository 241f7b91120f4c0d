package session_test

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/rest"

	_ "github.com/vmware/govmomi/vapi/simulator" // the REST endpoints of the vCenter before 8.0 U3

	govmomisession "github.com/vmware/govmomi/session"

	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/test/metrics"
)

// listLibraries is a REST call the supervisor makes (image sync).
func listLibraries(t *testing.T, s *session.Session) {
	t.Helper()
	err := s.WithREST(context.Background(), func(rc *rest.Client) error {
		_, err := library.NewManager(rc).ListLibraries(context.Background())
		return err
	})
	if err != nil {
		t.Fatalf("REST call: %v", err)
	}
}

type loginCounts struct{ soapNew, soapRelogin, restNew, restRelogin float64 }

func readLogins(t *testing.T) loginCounts {
	return loginCounts{
		soapNew:     metrics.Value(t, "supervisor_vcenter_logins_total", map[string]string{"reason": "new"}),
		soapRelogin: metrics.Value(t, "supervisor_vcenter_logins_total", map[string]string{"reason": "relogin"}),
		restNew:     metrics.Value(t, "supervisor_vcenter_rest_logins_total", map[string]string{"reason": "new"}),
		restRelogin: metrics.Value(t, "supervisor_vcenter_rest_logins_total", map[string]string{"reason": "relogin"}),
	}
}

func (c loginCounts) since(before loginCounts) loginCounts {
	return loginCounts{c.soapNew - before.soapNew, c.soapRelogin - before.soapRelogin, c.restNew - before.restNew, c.restRelogin - before.restRelogin}
}

// TestRESTRidesOnTheSOAPSession: on vCenter 8.0 U3 (the embedded simulator
// behaves as one) REST calls use the SOAP session, so the supervisor holds
// one vCenter session; when vCenter ends it, the next REST call logs in
// once more (a SOAP relogin) and goes on.
func TestRESTRidesOnTheSOAPSession(t *testing.T) {
	ctx := context.Background()
	sim, err := vcsim.Start(ctx, vcsim.Options{NodeImages: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	before := readLogins(t)
	cache := session.NewCache()
	s, err := cache.Get(ctx, session.Params{Server: sim.URL.String(), Username: sim.Username, Password: sim.Password, CAFile: sim.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	if !session.SharesSOAPSession(s.Client) {
		t.Fatalf("the simulator reports vCenter API %s; want one that shares sessions", s.Client.ServiceContent.About.ApiVersion)
	}
	for range 3 {
		listLibraries(t, s)
	}
	if got := readLogins(t).since(before); got != (loginCounts{soapNew: 1}) {
		t.Fatalf("logins after REST calls = %+v; want the one SOAP login", got)
	}

	// vCenter ends the session (idle expiry, an admin, a restart).
	us, err := govmomisession.NewManager(s.Client).UserSession(ctx)
	if err != nil || us == nil {
		t.Fatalf("current session: %v %v", us, err)
	}
	if err := sim.Client.SessionManager.TerminateSession(ctx, []string{us.Key}); err != nil {
		t.Fatal(err)
	}
	listLibraries(t, s)
	listLibraries(t, s)
	if got := readLogins(t).since(before); got != (loginCounts{soapNew: 1, soapRelogin: 1}) {
		t.Fatalf("logins after vCenter ended the session = %+v; want one SOAP relogin and no REST login", got)
	}
	if n := cache.Stats.Sessions.Load(); n != 2 {
		t.Fatalf("sessions opened = %d; want 2 (the first and the relogin)", n)
	}
}

// TestRESTLogsInBefore8U3: an older vCenter needs a REST session of its
// own: one login for every call, and one more when vCenter drops it.
func TestRESTLogsInBefore8U3(t *testing.T) {
	ctx := context.Background()
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.RegisterEndpoints = true
	srv := m.Service.NewServer()
	t.Cleanup(func() { srv.Close(); m.Remove() })
	ca, err := srv.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	p := params(srv)
	p.CAFile = ca
	before := readLogins(t)
	s, err := session.NewCache().Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if session.SharesSOAPSession(s.Client) {
		t.Fatalf("vcsim's default API %s must not share sessions", s.Client.ServiceContent.About.ApiVersion)
	}
	for range 3 {
		listLibraries(t, s)
	}
	if got := readLogins(t).since(before); got != (loginCounts{soapNew: 1, restNew: 1}) {
		t.Fatalf("logins = %+v; want one SOAP and one REST login", got)
	}
	// vCenter drops the REST session.
	if err := s.WithREST(ctx, func(rc *rest.Client) error { return rc.Logout(ctx) }); err != nil {
		t.Fatal(err)
	}
	listLibraries(t, s)
	listLibraries(t, s)
	if got := readLogins(t).since(before); got != (loginCounts{soapNew: 1, restNew: 1, restRelogin: 1}) {
		t.Fatalf("logins after the REST session was dropped = %+v; want one REST relogin", got)
	}
}
