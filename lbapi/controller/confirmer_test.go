package controller

import (
	"context"
	"errors"
	"testing"
	"time"
)

// heldCommit is a commit that awaits confirmation until the test says
// HAProxy runs it, or fails every look with err.
type heldCommit struct {
	runs  chan struct{}
	err   error
	looks chan struct{}
}

func newHeldCommit() *heldCommit {
	return &heldCommit{runs: make(chan struct{}), looks: make(chan struct{}, 1000)}
}

func (h *heldCommit) Confirm(context.Context) (bool, error) {
	h.looks <- struct{}{}
	if h.err != nil {
		return true, h.err
	}
	select {
	case <-h.runs:
		return false, nil
	default:
		return true, nil
	}
}

func newTestConfirmer() (*confirmer, chan struct{}) {
	woken := make(chan struct{}, 100)
	return newConfirmer(time.Millisecond, func() { woken <- struct{}{} }), woken
}

// The sync is woken once HAProxy runs the commit, and only then; asking
// again while a watch runs starts no second one.
func TestConfirmerWakesTheSyncOnceTheCommitRuns(t *testing.T) {
	c, woken := newTestConfirmer()
	h := newHeldCommit()
	c.watch(context.Background(), h)
	<-h.looks
	<-h.looks // looked twice: the first look did not end the watch
	c.watch(context.Background(), h)
	select {
	case <-woken:
		t.Fatal("woken while the commit awaits confirmation")
	default:
	}
	close(h.runs)
	<-woken
	c.idle()
	if n := len(woken); n != 0 {
		t.Fatalf("want one wake-up for one confirmed commit, got %d more", n)
	}
}

// A look that fails (the appliance is away) wakes the sync, which reports
// it; a watch of an applier the sync dropped ends without waking it.
func TestConfirmerEndsOnFailureOrWhenStopped(t *testing.T) {
	c, woken := newTestConfirmer()
	failing := newHeldCommit()
	failing.err = errors.New("connection refused")
	c.watch(context.Background(), failing)
	<-woken

	dropped := newHeldCommit()
	c.watch(context.Background(), dropped)
	<-dropped.looks
	c.stop()
	c.idle()
	if n := len(woken); n != 0 {
		t.Fatalf("a stopped watch woke the sync %d times", n)
	}
}

// A commit is looked at often while its reload is due soon, and less and
// less while it waits: an appliance reloading once a second is looked at
// within 65 ms of its reload, one reloading every 30 s (the vSphere
// appliance) is asked about a commit fewer than 100 times, not 600.
func TestConfirmerLooksLessOftenTheLongerACommitWaits(t *testing.T) {
	looksUntil := func(reload time.Duration) (looks int, late time.Duration) {
		waited := time.Duration(0)
		for waited < reload {
			waited += confirmPause(confirmEvery, waited)
			looks++
		}
		return looks, waited - reload
	}
	if _, late := looksUntil(1300 * time.Millisecond); late > 65*time.Millisecond {
		t.Errorf("a reload 1.3 s after the commit is seen %s late, want at most 65 ms", late)
	}
	if looks, _ := looksUntil(30 * time.Second); looks >= 100 {
		t.Errorf("a reload 30 s after the commit costs %d looks, want fewer than 100", looks)
	}
	if got := confirmPause(confirmEvery, time.Hour); got != confirmEveryAtMost {
		t.Errorf("the pause grows to %s, want at most %s", got, confirmEveryAtMost)
	}
}
