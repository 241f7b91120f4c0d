package session_test

import (
	"context"
	"testing"

	govmomisession "github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25/methods"

	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
)

func metric(t *testing.T, name string, labels map[string]string) float64 {
	return testmetrics.Value(t, name, labels)
}

// An operator sees every SOAP call by method and result, and a session
// vCenter dropped as a re-login.
func TestMetricsCountCallsAndRelogins(t *testing.T) {
	s, ca := startVCSim(t)
	ctx := context.Background()
	p := params(s)
	p.CAFile = ca
	newLogins := metric(t, "supervisor_vcenter_logins_total", map[string]string{"reason": "new"})
	sess, err := session.NewCache().Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := metric(t, "supervisor_vcenter_logins_total", map[string]string{"reason": "new"}); got != newLogins+1 {
		t.Errorf("new logins %v, want %v", got, newLogins+1)
	}
	okTime := metric(t, "supervisor_vcenter_calls_total", map[string]string{"method": "CurrentTime", "result": "ok"})
	relogins := metric(t, "supervisor_vcenter_logins_total", map[string]string{"reason": "relogin"})
	if _, err := methods.GetCurrentTime(ctx, sess.Client); err != nil {
		t.Fatal(err)
	}
	// vCenter drops the session (as an admin terminating it would).
	if err := govmomisession.NewManager(sess.Client).Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := methods.GetCurrentTime(ctx, sess.Client); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, "supervisor_vcenter_calls_total", map[string]string{"method": "CurrentTime", "result": "ok"}); got < okTime+2 {
		t.Errorf("CurrentTime ok calls %v, want at least %v", got, okTime+2)
	}
	if got := metric(t, "supervisor_vcenter_logins_total", map[string]string{"reason": "relogin"}); got != relogins+1 {
		t.Errorf("re-logins %v, want %v", got, relogins+1)
	}
}
