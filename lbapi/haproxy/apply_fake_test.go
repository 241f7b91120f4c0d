package haproxy_test

import (
	"context"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/lbapi/dataplane/fake"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// Unit tests of the applier against the in-memory Data Plane API; the
// tests in apply_test.go run the same applier against real HAProxy.

var _ dataplane.API = (*fake.DataPlane)(nil)

// names lists the keys of m but the applier's commit markers.
func names[T any](m map[string]T) string {
	var out []string
	for n := range m {
		if !haproxy.IsCommitMarker(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// commitForeign commits a backend lbapi does not own, as another writer would.
func commitForeign(t *testing.T, api dataplane.API, name string) {
	t.Helper()
	ctx := context.Background()
	v, err := api.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tid, err := api.StartTransaction(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	b := &models.Backend{}
	b.Name, b.Mode = name, "tcp"
	if err := api.CreateBackend(ctx, b, tid); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CommitReload(ctx, tid); err != nil {
		t.Fatal(err)
	}
}

func twoProxies() map[string]haproxy.Proxy {
	return map[string]haproxy.Proxy{
		"lb_a": proxy("lb_a", "127.30.0.1", 80, server("vm-a", "10.0.0.1", 8080), server("vm-b", "10.0.0.2", 8080)),
		"lb_b": proxy("lb_b", "127.30.0.2", 443, server("vm-a", "10.0.0.1", 8443)),
	}
}

func TestApplierWritesOneTransactionThenNothing(t *testing.T) {
	ctx := context.Background()
	dp := &fake.DataPlane{}
	ap := &haproxy.Applier{Client: dp}
	desired := twoProxies()

	if _, err := ap.Apply(ctx, desired); err != nil {
		t.Fatal(err)
	}
	if ap.Transactions != 1 || dp.Calls("CommitReload") != 1 {
		t.Fatalf("want one transaction, got %d (%d commits)", ap.Transactions, dp.Calls("CommitReload"))
	}
	cfg := dp.Committed()
	if names(cfg.Frontends) != "lb_a,lb_b" || names(cfg.Backends) != "lb_a,lb_b" || names(cfg.Servers["lb_a"]) != "vm-a,vm-b" {
		t.Fatalf("committed %v / %v / %v", names(cfg.Frontends), names(cfg.Backends), names(cfg.Servers["lb_a"]))
	}
	bind := cfg.Binds["lb_b"]["vip"]
	if bind == nil || bind.Address != "127.30.0.2" || *bind.Port != 443 || cfg.Frontends["lb_b"].DefaultBackend != "lb_b" {
		t.Fatalf("lb_b is not bound to its VIP: %+v %+v", bind, cfg.Frontends["lb_b"])
	}
	if s := cfg.Servers["lb_a"]["vm-b"]; s.Address != "10.0.0.2" || *s.Port != 8080 || s.Check != "enabled" {
		t.Fatalf("server vm-b: %+v", s)
	}

	// Once the reload is known to have succeeded, the proxies are loaded and
	// the same state again costs no read of the configuration and no commit.
	reads := dp.Calls("Frontends") + dp.Calls("Backends")
	res, err := ap.Apply(ctx, desired)
	if err != nil || !res.Changes.Empty() || len(res.Rejected) != 0 {
		t.Fatalf("a repeated apply must do nothing: %+v %v", res, err)
	}
	if ap.Pending() || !ap.Loaded(desired["lb_a"]) || !ap.Loaded(desired["lb_b"]) {
		t.Fatalf("the succeeded reload must confirm both proxies (pending %v)", ap.Pending())
	}
	if dp.Calls("Frontends")+dp.Calls("Backends") != reads || dp.Calls("StartTransaction") != 1 || ap.Transactions != 1 {
		t.Fatalf("a steady state must not read the configuration or open a transaction: %d reads, %d transactions",
			dp.Calls("Frontends")+dp.Calls("Backends")-reads, dp.Calls("StartTransaction"))
	}
	if names(dp.Loaded().Frontends) != "lb_a,lb_b" {
		t.Fatalf("HAProxy serves %s", names(dp.Loaded().Frontends))
	}
}

func TestApplierChangesOnlyWhatItOwns(t *testing.T) {
	ctx := context.Background()
	dp := &fake.DataPlane{}
	commitForeign(t, dp, "admin_stats")
	ap := &haproxy.Applier{Client: dp}
	if _, err := ap.Apply(ctx, twoProxies()); err != nil {
		t.Fatal(err)
	}
	if _, err := ap.Apply(ctx, map[string]haproxy.Proxy{}); err != nil {
		t.Fatal(err)
	}
	cfg := dp.Committed()
	if all := strings.Join(sortedKeys(cfg.Backends), ","); all != "admin_stats" || names(cfg.Frontends) != "" {
		t.Fatalf("want only the foreign backend left, got backends %q frontends %q", names(cfg.Backends), names(cfg.Frontends))
	}
}

// racing commits a foreign change just before the applier's first
// StartTransaction (409) or its first commit (406).
type racing struct {
	*fake.DataPlane
	t                 *testing.T
	beforeStart       int // foreign commits before the next StartTransactions
	beforeCommit      int // foreign commits before the next commits
	foreignCommitting bool
}

func (r *racing) StartTransaction(ctx context.Context, version int64) (string, error) {
	if r.beforeStart > 0 && !r.foreignCommitting {
		r.beforeStart--
		r.foreign()
	}
	return r.DataPlane.StartTransaction(ctx, version)
}

func (r *racing) CommitReload(ctx context.Context, tid string) (string, error) {
	if r.beforeCommit > 0 && !r.foreignCommitting {
		r.beforeCommit--
		r.foreign()
	}
	return r.DataPlane.CommitReload(ctx, tid)
}

func (r *racing) foreign() {
	r.foreignCommitting = true
	defer func() { r.foreignCommitting = false }()
	commitForeign(r.t, r.DataPlane, "someone_else_"+strings.Repeat("x", r.DataPlane.Calls("CommitReload")))
}

func TestApplierRetriesWhenAnotherWriterCommitsMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		api     func(*racing)
		wantErr error
	}{
		{"the version moved before the transaction began (409)", func(r *racing) { r.beforeStart = 1 }, dataplane.ErrConflict},
		{"the version moved before the commit (406)", func(r *racing) { r.beforeCommit = 1 }, dataplane.ErrOutdated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &racing{DataPlane: &fake.DataPlane{}, t: t}
			tc.api(r)
			ap := &haproxy.Applier{Client: r}
			if _, err := ap.Apply(context.Background(), twoProxies()); err != nil {
				t.Fatal(err)
			}
			cfg := r.Committed()
			if names(cfg.Frontends) != "lb_a,lb_b" || !strings.Contains(names(cfg.Backends), "someone_else") {
				t.Fatalf("want ours and the other writer's: frontends %q backends %q", names(cfg.Frontends), names(cfg.Backends))
			}
			if ap.Transactions != 1 {
				t.Fatalf("want the one transaction that committed counted, got %d", ap.Transactions)
			}
		})
	}

	// A configuration that never stops moving is an error, not a loop.
	r := &racing{DataPlane: &fake.DataPlane{}, t: t, beforeStart: 100}
	_, err := (&haproxy.Applier{Client: r}).Apply(context.Background(), twoProxies())
	if !errors.Is(err, dataplane.ErrConflict) || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("want a give-up error wrapping ErrConflict, got %v", err)
	}
}

// A proxy haproxy -c refuses is reported with the reason and left out; the
// rest is committed, and the refusal holds until the proxy changes.
func TestApplierLeavesOutWhatHAProxyRefuses(t *testing.T) {
	ctx := context.Background()
	dp := &fake.DataPlane{}
	ap := &haproxy.Applier{Client: dp}
	desired := twoProxies()
	for _, n := range []string{"lb_c", "lb_d", "lb_e"} {
		desired[n] = proxy(n, "127.30.0.9", 80, server("vm-a", "10.0.0.1", 8080))
	}
	desired["lb_d"] = proxy("lb_d", "127.30.0.4", 80, server("vm-a", "10.0.0.1", 0)) // checked, no port: refused

	res, err := ap.Apply(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Rejected) != "lb_d" || !errors.Is(res.Rejected["lb_d"], dataplane.ErrInvalid) ||
		!strings.Contains(res.Rejected["lb_d"].Error(), "neither service port nor check port") {
		t.Fatalf("want lb_d rejected with HAProxy's reason, got %v", res.Rejected)
	}
	if got := names(dp.Committed().Frontends); got != "lb_a,lb_b,lb_c,lb_e" {
		t.Fatalf("want the rest committed, got %s", got)
	}
	if !ap.Loaded(desired["lb_c"]) || ap.Loaded(desired["lb_d"]) {
		t.Fatal("the accepted proxies are loaded, the refused one is not")
	}

	// The same batch again: still refused, without another try.
	commits := dp.Calls("CommitReload")
	if res, err = ap.Apply(ctx, desired); err != nil || names(res.Rejected) != "lb_d" {
		t.Fatalf("second apply: %v %v", res.Rejected, err)
	}
	if dp.Calls("CommitReload") != commits {
		t.Fatalf("an unchanged refused proxy was tried again (%d commits)", dp.Calls("CommitReload")-commits)
	}

	// Fixed: it is served.
	desired["lb_d"] = proxy("lb_d", "127.30.0.4", 80, server("vm-a", "10.0.0.1", 8080))
	if res, err = ap.Apply(ctx, desired); err != nil || len(res.Rejected) != 0 {
		t.Fatalf("after the fix: %v %v", res.Rejected, err)
	}
	if got := names(dp.Committed().Frontends); got != "lb_a,lb_b,lb_c,lb_d,lb_e" {
		t.Fatalf("want lb_d committed after its fix, got %s", got)
	}
}

// A reload that fails after its commit (HAProxy cannot bind a VIP) is
// found by the next Apply: the proxy at fault is left out and the rest is
// loaded.
func TestApplierIsolatesAFailedReload(t *testing.T) {
	ctx := context.Background()
	taken := netip.MustParseAddr("127.30.0.2")
	dp := &fake.DataPlane{HoldReloads: true, Load: func(cfg fake.Config) error {
		for f, binds := range cfg.Binds {
			for _, b := range binds {
				if b.Address == taken.String() {
					return errors.New("[ALERT] Proxy '" + f + "': cannot bind socket (Address already in use) [" + b.Address + ":443]")
				}
			}
		}
		return nil
	}}
	ap := &haproxy.Applier{Client: dp}
	desired := twoProxies() // lb_b binds the taken address
	if res, err := ap.Apply(ctx, desired); err != nil || len(res.Rejected) != 0 {
		t.Fatalf("the commit itself succeeds: %v %v", res.Rejected, err)
	}
	if !ap.Pending() || ap.Loaded(desired["lb_a"]) {
		t.Fatal("nothing is loaded before the reload finished")
	}
	dp.FinishReloads()
	dp.HoldReloads = false

	res, err := ap.Apply(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Rejected) != "lb_b" || !strings.Contains(res.Rejected["lb_b"].Error(), "cannot bind socket") {
		t.Fatalf("want lb_b rejected with HAProxy's reason, got %v", res.Rejected)
	}
	if ap.Pending() || !ap.Loaded(desired["lb_a"]) || ap.Loaded(desired["lb_b"]) {
		t.Fatalf("want lb_a loaded and lb_b not (pending %v)", ap.Pending())
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a" {
		t.Fatalf("HAProxy must serve lb_a alone, serves %q", got)
	}
}
