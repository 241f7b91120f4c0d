package haproxy_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/dataplane/fake"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// squatter is a VIP:port another process holds: HAProxy cannot load a
// configuration binding it, and it accepts connections.
type squatter struct {
	mu   sync.Mutex
	addr string // "" once freed
}

func (s *squatter) holds(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr != "" && s.addr == addr
}

func (s *squatter) free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addr = ""
}

// load fails a configuration binding the held address, as HAProxy does.
func (s *squatter) load(cfg fake.Config) error {
	for f, binds := range cfg.Binds {
		for _, b := range binds {
			if s.holds(b.Address + ":" + itoa(b.Port)) {
				return errors.New("[ALERT] Binding for frontend " + f + ": cannot bind socket (Address already in use)")
			}
		}
	}
	return nil
}

// dial answers like the network: the held address accepts connections.
func (s *squatter) dial(_ context.Context, addr string) error {
	if s.holds(addr) {
		return nil
	}
	return errors.New("connection refused")
}

func itoa(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// settle calls Apply until nothing awaits confirmation.
func settle(t *testing.T, ap *haproxy.Applier, desired map[string]haproxy.Proxy) haproxy.Result {
	t.Helper()
	for range 100 {
		res, err := ap.Apply(context.Background(), desired)
		if err != nil {
			t.Fatal(err)
		}
		if !ap.Pending() {
			return res
		}
	}
	t.Fatal("the commit is still unconfirmed after 100 syncs")
	return haproxy.Result{}
}

// With a Data Plane API that reports every reload succeeded (the real
// server's signal reload), a proxy whose VIP:port another process holds is
// found from what the running process runs, not from the reload status:
// it alone is refused, naming the address, the rest is loaded; it stays
// out without failing reload after reload while the address is held, so
// later changes go live; once the address is free it is loaded too.
func TestApplierConfirmsCommitsAgainstTheRunningProcess(t *testing.T) {
	sq := &squatter{addr: "127.30.0.2:443"} // lb_b's VIP:port
	dp := &fake.DataPlane{SignalReloads: true, Load: sq.load}
	ap := &haproxy.Applier{Client: dp, Dial: sq.dial, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Nanosecond}
	desired := twoProxies()

	res := settle(t, ap, desired)
	if names(res.Rejected) != "lb_b" || !strings.Contains(res.Rejected["lb_b"].Error(), "VIP 127.30.0.2:443 is held by another process") {
		t.Fatalf("want lb_b refused for its held VIP:port, got %v", res.Rejected)
	}
	if !ap.Loaded(desired["lb_a"]) || ap.Loaded(desired["lb_b"]) {
		t.Fatal("want lb_a confirmed loaded and lb_b not")
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a" {
		t.Fatalf("HAProxy must run lb_a alone, runs %q", got)
	}

	// Later changes go live, lb_b's own servers changing too; lb_b is not
	// tried again while its address is held (its retry is due at once), so
	// no reload fails meanwhile.
	desired["lb_c"] = proxy("lb_c", "127.30.0.3", 80, server("vm-a", "10.0.0.1", 8080))
	desired["lb_b"] = proxy("lb_b", "127.30.0.2", 443, server("vm-a", "10.0.0.1", 8443), server("vm-c", "10.0.0.3", 8443))
	commits := dp.Calls("CommitReload")
	res = settle(t, ap, desired)
	if names(res.Rejected) != "lb_b" || !ap.Loaded(desired["lb_c"]) {
		t.Fatalf("want lb_c live and lb_b still refused, got %v", res.Rejected)
	}
	if got := dp.Calls("CommitReload") - commits; got != 1 {
		t.Errorf("want one commit for lb_c alone, got %d", got)
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a,lb_c" {
		t.Fatalf("HAProxy must run lb_a and lb_c, runs %q", got)
	}

	// The address is freed: lb_b is tried again and runs.
	sq.free()
	res = settle(t, ap, desired)
	if len(res.Rejected) != 0 || !ap.Loaded(desired["lb_b"]) {
		t.Fatalf("want lb_b live once its address is free, got %v", res.Rejected)
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a,lb_b,lb_c" {
		t.Fatalf("HAProxy must run all three, runs %q", got)
	}
}

// A proxy that moves to a held VIP:port keeps its frontend in the running
// process (the previous one): only the commit marker shows that the move
// never loaded.
func TestApplierNoticesARebindThatNeverLoaded(t *testing.T) {
	sq := &squatter{addr: "127.30.0.9:80"}
	dp := &fake.DataPlane{SignalReloads: true, Load: sq.load}
	ap := &haproxy.Applier{Client: dp, Dial: sq.dial, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Hour}
	desired := twoProxies()
	settle(t, ap, desired)
	if !ap.Loaded(desired["lb_a"]) {
		t.Fatal("lb_a must be live")
	}
	moved := twoProxies()
	moved["lb_a"] = proxy("lb_a", "127.30.0.9", 80, server("vm-a", "10.0.0.1", 8080), server("vm-b", "10.0.0.2", 8080))
	res := settle(t, ap, moved)
	if names(res.Rejected) != "lb_a" || !strings.Contains(res.Rejected["lb_a"].Error(), "held by another process") {
		t.Fatalf("want the move of lb_a refused, got %v", res.Rejected)
	}
	if ap.Loaded(moved["lb_a"]) || !ap.Loaded(desired["lb_a"]) {
		t.Fatal("lb_a must be confirmed where it was, not where it was asked to move")
	}
	if b := dp.Committed().Binds["lb_a"]["vip"]; b == nil || b.Address != "127.30.0.1" {
		t.Fatalf("HAProxy's file must hold lb_a's previous bind again, holds %+v", b)
	}
}

// When the culprit cannot be told from the network (its VIP does not
// answer), the batch is split until the proxy the running process does not
// run is found.
func TestApplierBisectsWhatTheRunningProcessDoesNotRun(t *testing.T) {
	sq := &squatter{addr: "127.30.0.2:443"}
	refuse := func(context.Context, string) error { return errors.New("no route to host") }
	dp := &fake.DataPlane{SignalReloads: true, Load: sq.load}
	ap := &haproxy.Applier{Client: dp, Dial: refuse, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Hour}
	res := settle(t, ap, twoProxies())
	if names(res.Rejected) != "lb_b" || !strings.Contains(res.Rejected["lb_b"].Error(), "running process does not run") {
		t.Fatalf("want lb_b refused as not running, got %v", res.Rejected)
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a" {
		t.Fatalf("HAProxy must run lb_a alone, runs %q", got)
	}
}

// An API without stats endpoints is trusted on its reload status.
func TestApplierTrustsTheReloadWithoutStats(t *testing.T) {
	dp := &fake.DataPlane{NoStats: true}
	ap := &haproxy.Applier{Client: dp}
	desired := twoProxies()
	settle(t, ap, desired)
	if !ap.Loaded(desired["lb_a"]) || !ap.Loaded(desired["lb_b"]) {
		t.Fatal("want both proxies loaded on the reload's word")
	}
}

// A restarted applier finds HAProxy's file holding desired already; what
// the running process never loaded is not taken on the file's word.
func TestApplierConfirmsWhatItFindsAfterARestart(t *testing.T) {
	sq := &squatter{addr: "127.30.0.2:443"}
	dp := &fake.DataPlane{SignalReloads: true, Load: sq.load}
	desired := twoProxies()
	first := &haproxy.Applier{Client: dp, Dial: sq.dial, ConfirmTimeout: time.Hour}
	if _, err := first.Apply(context.Background(), desired); err != nil || !first.Pending() {
		t.Fatalf("the first applier commits and waits: pending %v, %v", first.Pending(), err)
	}
	// The first applier goes away before confirming anything.
	restarted := &haproxy.Applier{Client: dp, Dial: sq.dial, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Hour}
	res := settle(t, restarted, desired)
	if names(res.Rejected) != "lb_b" || !strings.Contains(res.Rejected["lb_b"].Error(), "held by another process") {
		t.Fatalf("want lb_b refused for its held address, got %v", res.Rejected)
	}
	if !restarted.Loaded(desired["lb_a"]) || restarted.Loaded(desired["lb_b"]) {
		t.Fatal("want lb_a confirmed and lb_b not")
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a" {
		t.Fatalf("HAProxy must run lb_a alone, runs %q", got)
	}
}

// A refused proxy whose retry is due is retried in a commit of its own,
// after the other changes: failing again, it costs them nothing.
func TestApplierRetriesARefusalInACommitOfItsOwn(t *testing.T) {
	ctx := context.Background()
	sq := &squatter{addr: "127.30.0.2:443"}
	refuse := func(context.Context, string) error { return errors.New("no route to host") }
	dp := &fake.DataPlane{SignalReloads: true, Load: sq.load}
	// Retries are due at once, confirmations time out at once.
	ap := &haproxy.Applier{Client: dp, Dial: refuse, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Nanosecond}
	desired := twoProxies()
	apply := func() haproxy.Result {
		t.Helper()
		res, err := ap.Apply(ctx, desired)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	apply() // lb_a and lb_b committed; their reload will not load

	// lb_c arrives as lb_b is found at fault: lb_b's retry, due at once,
	// waits, and lb_c is committed alone.
	desired["lb_c"] = proxy("lb_c", "127.30.0.3", 80, server("vm-a", "10.0.0.1", 8080))
	if res := apply(); names(res.Rejected) != "lb_b" {
		t.Fatalf("want lb_b refused, got %v", res.Rejected)
	}
	if cfg := dp.Committed(); cfg.Frontends["lb_b"] != nil || cfg.Frontends["lb_c"] == nil {
		t.Fatalf("want lb_c committed without lb_b, HAProxy's file holds %s", names(cfg.Frontends))
	}

	// lb_c is confirmed; nothing else waits, so lb_b is retried, alone.
	apply()
	if !ap.Loaded(desired["lb_c"]) {
		t.Fatal("lb_c must be live")
	}
	if dp.Committed().Frontends["lb_b"] == nil || !ap.Pending() {
		t.Fatal("lb_b must be retried once nothing else waits")
	}

	// It fails again; the rest keeps running.
	ap.RetryRejected = time.Hour
	if res := settle(t, ap, desired); names(res.Rejected) != "lb_b" {
		t.Fatalf("want lb_b refused again, got %v", res.Rejected)
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a,lb_c" {
		t.Fatalf("HAProxy must run lb_a and lb_c, runs %q", got)
	}
}

// lateReports is a Data Plane API whose reloads ran after lbapi last
// looked at them: while hide is set it reports each one in progress,
// whatever HAProxy's running process already runs.
type lateReports struct {
	*fake.DataPlane
	hide bool
}

func (l *lateReports) Reload(ctx context.Context, id string) (*models.Reload, error) {
	r, err := l.DataPlane.Reload(ctx, id)
	if err == nil && l.hide {
		r.Status = models.ReloadStatusInProgress
	}
	return r, err
}

// A commit reloaded while a newer one waits for the next reload serves
// now: its proxies are confirmed as soon as the running process shows
// them, not with the newer commit; the newer commit's proxy only once it
// runs too.
func TestApplierConfirmsACommitALaterOneSuperseded(t *testing.T) {
	ctx := context.Background()
	dp := &lateReports{DataPlane: &fake.DataPlane{}, hide: true}
	ap := &haproxy.Applier{Client: dp, ConfirmTimeout: time.Hour}
	first := twoProxies()
	if _, err := ap.Apply(ctx, first); err != nil { // HAProxy runs it at once
		t.Fatal(err)
	}
	dp.HoldReloads = true // the second commit waits for the next reload
	second := twoProxies()
	second["lb_c"] = proxy("lb_c", "127.30.0.3", 80, server("vm-a", "10.0.0.1", 8080))
	if _, err := ap.Apply(ctx, second); err != nil {
		t.Fatal(err)
	}
	pending, err := ap.Confirm(ctx)
	if err != nil || !pending {
		t.Fatalf("the second commit's reload is still to come: pending %v, %v", pending, err)
	}
	if !ap.Loaded(first["lb_a"]) || !ap.Loaded(first["lb_b"]) {
		t.Fatal("the first commit runs: its proxies must be confirmed without waiting for the second's reload")
	}
	if ap.Loaded(second["lb_c"]) {
		t.Fatal("lb_c was confirmed before HAProxy ran it")
	}

	dp.hide = false
	dp.FinishReloads()
	if pending, err := ap.Confirm(ctx); err != nil || pending {
		t.Fatalf("the second commit runs: pending %v, %v", pending, err)
	}
	if !ap.Loaded(second["lb_c"]) {
		t.Fatal("lb_c must be confirmed once HAProxy runs it")
	}
}

// A newer commit that never loads is settled from what the running process
// runs, the earlier commit it superseded included: only its own proxy at
// fault is refused.
func TestApplierSettlesASupersedingCommitFromTheEarlierOne(t *testing.T) {
	ctx := context.Background()
	sq := &squatter{addr: "127.30.0.3:80"} // lb_c's VIP:port
	dp := &lateReports{DataPlane: &fake.DataPlane{SignalReloads: true, Load: sq.load}, hide: true}
	ap := &haproxy.Applier{Client: dp, Dial: sq.dial, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Hour}
	desired := twoProxies()
	if _, err := ap.Apply(ctx, desired); err != nil {
		t.Fatal(err)
	}
	dp.HoldReloads = true
	desired["lb_c"] = proxy("lb_c", "127.30.0.3", 80, server("vm-a", "10.0.0.1", 8080))
	if _, err := ap.Apply(ctx, desired); err != nil {
		t.Fatal(err)
	}
	if _, err := ap.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if !ap.Loaded(desired["lb_a"]) || !ap.Loaded(desired["lb_b"]) {
		t.Fatal("the first commit runs: lb_a and lb_b must be confirmed")
	}
	dp.hide = false
	dp.FinishReloads() // reported succeeded; lb_c's bind fails
	dp.HoldReloads = false
	res := settle(t, ap, desired)
	if names(res.Rejected) != "lb_c" || !strings.Contains(res.Rejected["lb_c"].Error(), "held by another process") {
		t.Fatalf("want lb_c refused for its held VIP:port, got %v", res.Rejected)
	}
	if !ap.Loaded(desired["lb_a"]) || !ap.Loaded(desired["lb_b"]) || ap.Loaded(desired["lb_c"]) {
		t.Fatal("want lb_a and lb_b confirmed, lb_c not")
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a,lb_b" {
		t.Fatalf("HAProxy must run lb_a and lb_b, runs %q", got)
	}
}
