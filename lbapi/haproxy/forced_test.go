package haproxy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/open-supervisor/supervisor/lbapi/dataplane/fake"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// With ReloadEvery, a commit reloads HAProxy before it answers: what it
// holds runs at once, with no reload left to wait for. A change that comes
// within ReloadEvery of that commit waits for the rest of it, then goes in
// one commit with what else came meanwhile.
func TestApplierReloadsInlineAtMostOncePerReloadEvery(t *testing.T) {
	ctx := context.Background()
	dp := &fake.DataPlane{}
	// An interval no scheduling delay can outlast.
	const every = time.Hour
	ap := &haproxy.Applier{Client: dp, ReloadEvery: every}
	desired := twoProxies()

	res, err := ap.Apply(ctx, desired)
	if err != nil || res.RetryAfter != 0 {
		t.Fatalf("the first change must be committed at once: wait %v, %v", res.RetryAfter, err)
	}
	if dp.Calls("CommitForced") != 1 || dp.Calls("CommitReload") != 0 {
		t.Fatalf("want one commit with an inline reload, got %d forced and %d scheduled", dp.Calls("CommitForced"), dp.Calls("CommitReload"))
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a,lb_b" {
		t.Fatalf("HAProxy must run the commit when it answers, runs %q", got)
	}
	settle(t, ap, desired)
	if !ap.Loaded(desired["lb_a"]) || !ap.Loaded(desired["lb_b"]) {
		t.Fatal("want both proxies confirmed loaded")
	}

	desired["lb_c"] = proxy("lb_c", "127.30.0.3", 80, server("vm-a", "10.0.0.1", 8080))
	res, err = ap.Apply(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	if res.RetryAfter <= 0 || res.RetryAfter > every {
		t.Fatalf("a change right after a commit must wait for the rest of %v, waits %v", every, res.RetryAfter)
	}
	if dp.Calls("CommitForced") != 1 || names(dp.Committed().Frontends) != "lb_a,lb_b" {
		t.Fatalf("nothing may be committed while it waits: %d commits, %s", dp.Calls("CommitForced"), names(dp.Committed().Frontends))
	}
	desired["lb_d"] = proxy("lb_d", "127.30.0.4", 80, server("vm-a", "10.0.0.1", 8080))
	// The interval is over (shortened rather than waited for).
	ap.ReloadEvery = time.Nanosecond

	if res, err = ap.Apply(ctx, desired); err != nil || res.RetryAfter != 0 {
		t.Fatalf("once the wait is over the changes must be committed: wait %v, %v", res.RetryAfter, err)
	}
	if dp.Calls("CommitForced") != 2 {
		t.Fatalf("want the two changes in one more commit, got %d commits", dp.Calls("CommitForced"))
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a,lb_b,lb_c,lb_d" {
		t.Fatalf("HAProxy must run all four, runs %q", got)
	}

	// Nothing to change: nothing to wait for.
	if res, err = ap.Apply(ctx, desired); err != nil || res.RetryAfter != 0 {
		t.Fatalf("an Apply with nothing to change must not wait: %v, %v", res.RetryAfter, err)
	}
}

// A forced reload HAProxy could not apply is answered with an error after
// the commit (the Data Plane API's 500): the proxy at fault is refused
// with HAProxy's reason and the rest is loaded, without waiting for a
// confirmation timeout.
func TestApplierSettlesAFailedForcedReload(t *testing.T) {
	sq := &squatter{addr: "127.30.0.2:443"} // lb_b's VIP:port
	dp := &fake.DataPlane{Load: sq.load}
	ap := &haproxy.Applier{Client: dp, Dial: sq.dial, ReloadEvery: time.Hour, RetryRejected: time.Hour}
	desired := twoProxies()

	res, err := ap.Apply(context.Background(), desired)
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Rejected) != "lb_b" || !strings.Contains(res.Rejected["lb_b"].Error(), "cannot bind socket") {
		t.Fatalf("want lb_b refused with HAProxy's reason, got %v", res.Rejected)
	}
	if ap.Pending() || !ap.Loaded(desired["lb_a"]) || ap.Loaded(desired["lb_b"]) {
		t.Fatalf("want lb_a loaded and lb_b not (pending %v)", ap.Pending())
	}
	if got := names(dp.Committed().Frontends); got != "lb_a" {
		t.Fatalf("HAProxy's file must hold lb_a alone, holds %q", got)
	}
	if got := names(dp.Loaded().Frontends); got != "lb_a" {
		t.Fatalf("HAProxy must run lb_a alone, runs %q", got)
	}
}

// As the real Data Plane API does with a signal reload, a forced reload
// HAProxy could not apply may be answered as succeeded: the running
// process tells, and the proxy at fault is refused all the same.
func TestApplierFindsAnUnreportedFailedForcedReload(t *testing.T) {
	sq := &squatter{addr: "127.30.0.2:443"}
	dp := &fake.DataPlane{SignalReloads: true, Load: sq.load}
	ap := &haproxy.Applier{Client: dp, Dial: sq.dial, ReloadEvery: time.Hour, ConfirmTimeout: time.Nanosecond, RetryRejected: time.Hour}
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
	if dp.Calls("CommitReload") != 0 {
		t.Errorf("every commit must reload inline, %d were scheduled", dp.Calls("CommitReload"))
	}
}

// A forced commit that failed before it was made (the API did not answer)
// is an error for the sync to retry, not a refusal.
func TestApplierForcedCommitNotMadeIsAnError(t *testing.T) {
	dp := &fake.DataPlane{}
	ap := &haproxy.Applier{Client: &failingForcedCommit{DataPlane: dp}, ReloadEvery: time.Hour}
	res, err := ap.Apply(context.Background(), twoProxies())
	if err == nil || len(res.Rejected) != 0 {
		t.Fatalf("want the failure as an error and nothing refused, got %v, %v", res.Rejected, err)
	}
	if got := names(dp.Committed().Frontends); got != "" {
		t.Fatalf("nothing was committed, the file holds %q", got)
	}
}

// failingForcedCommit fails every forced commit before it is made.
type failingForcedCommit struct{ *fake.DataPlane }

func (f *failingForcedCommit) CommitForced(context.Context, string) error {
	return errors.New("connection reset by peer")
}
