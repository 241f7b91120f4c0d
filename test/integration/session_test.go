package integration

import (
	"context"
	"testing"

	"github.com/vmware/govmomi/session"

	"github.com/open-supervisor/supervisor/test/harness"
)

// vCenter dropping the supervisor's session (expiry, an admin, a restart)
// costs one new login, and work goes on.
func TestSessionInvalidatedLogsInAgain(t *testing.T) {
	h := harness.New(t, harness.Options{})
	m := h.StartManager(nil)
	ctx := context.Background()
	waitReady(h, newVM(t, h, "before", "best-effort-xsmall"))

	mine, err := session.NewManager(m.Provider.Session.Client).UserSession(ctx)
	if err != nil || mine == nil {
		t.Fatalf("no current session: %v", err)
	}
	if err := session.NewManager(h.Sim.Client.Client).TerminateSession(ctx, []string{mine.Key}); err != nil {
		t.Fatal(err)
	}
	logins := m.Provider.Sessions.Stats.Sessions.Load()

	vm := waitReady(h, newVM(t, h, "after", "best-effort-xsmall"))
	if n := allVMsWithUUID(t, h, string(vm.UID)); n != 1 {
		t.Errorf("want the VM created after re-login, got %d", n)
	}
	now, err := session.NewManager(m.Provider.Session.Client).UserSession(ctx)
	if err != nil || now == nil || now.Key == mine.Key {
		t.Errorf("want a new session, got %+v (err %v)", now, err)
	}
	if n := m.Provider.Sessions.Stats.Sessions.Load() - logins; n < 1 || n > 2 {
		t.Errorf("want one re-login (SOAP; REST unaffected), got %d", n)
	}
}
