package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

const (
	// confirmEvery is the shortest pause between two looks at an
	// unconfirmed commit (its reload's status, then the running process's
	// stats); the pause grows to confirmSlowdown of the time waited so far,
	// up to confirmEveryAtMost, so an appliance that reloads every 30 s is
	// asked about 90 times a commit rather than 600, and one that reloads
	// every second is still looked at within about 65 ms of its reload.
	confirmEvery       = 50 * time.Millisecond
	confirmSlowdown    = 20
	confirmEveryAtMost = time.Second
	// confirmFor bounds one watch; a commit still unconfirmed then wakes
	// the sync, which watches it again.
	confirmFor = haproxy.ReloadTimeout
)

// committer is what the confirmer watches: an applier with a commit that
// may await confirmation.
type committer interface {
	Confirm(ctx context.Context) (pending bool, err error)
}

// confirmer waits, off the sync's worker, for HAProxy to run the applier's
// unconfirmed commit and then wakes the sync, which publishes the
// commit's VIPs: the sync learns of a reload within confirmEvery of the
// running process showing it, and the worker stays free to commit the
// next changes meanwhile. A commit that failed to load (a failed reload,
// or ConfirmTimeout without the running process showing it) is settled
// the same way and wakes the sync too, which reports the refusals.
type confirmer struct {
	every time.Duration
	// wake asks for a sync; it must not block.
	wake func()
	// running counts the watches whose goroutine has not ended.
	running sync.WaitGroup

	mu sync.Mutex
	// current is the watch in progress; nil when none is.
	current *watch
}

// watch is one applier's watch.
type watch struct {
	applier committer
	stop    context.CancelFunc
}

func newConfirmer(every time.Duration, wake func()) *confirmer {
	return &confirmer{every: every, wake: wake}
}

// watch makes sure a's unconfirmed commit is watched: it starts a watch
// unless one of a runs (that one sees the latest commit too), and stops
// the watch of an applier the sync no longer uses.
func (c *confirmer) watch(ctx context.Context, a committer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil {
		if c.current.applier == a {
			return
		}
		c.current.stop()
	}
	// The watch outlives this sync, not the process: it ends by itself
	// within confirmFor.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmFor)
	w := &watch{applier: a, stop: cancel}
	c.current = w
	c.running.Go(func() { c.run(ctx, w) })
}

// stop ends the watch in progress, if any (the sync dropped its applier).
func (c *confirmer) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != nil {
		c.current.stop()
		c.current = nil
	}
}

// idle waits until no watch runs (for tests).
func (c *confirmer) idle() { c.running.Wait() }

// run looks at the commit until nothing awaits confirmation, then wakes
// the sync. A look that fails (the appliance is away) wakes it too: the
// sync reports the failure and watches again.
func (c *confirmer) run(ctx context.Context, w *watch) {
	defer w.stop()
	err := c.look(ctx, w.applier)
	c.mu.Lock()
	current := c.current == w
	if current {
		c.current = nil
	}
	c.mu.Unlock()
	if !current {
		return // stopped: the sync uses another applier
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		ctrl.LoggerFrom(ctx).Info("Looking at HAProxy's last commit failed, the next sync looks again", "reason", err.Error())
	}
	c.wake()
}

// look asks a about its commit until nothing awaits confirmation, a look
// fails or ctx ends; see confirmEvery for the pauses.
func (c *confirmer) look(ctx context.Context, a committer) error {
	start := time.Now()
	for {
		pending, err := a.Confirm(ctx)
		if err != nil || !pending {
			return err
		}
		t := time.NewTimer(confirmPause(c.every, time.Since(start)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// confirmPause is the pause before the next look at a commit waited for
// since waited: every at first, then confirmSlowdown of the wait, at most
// confirmEveryAtMost (or every, when that is longer).
func confirmPause(every, waited time.Duration) time.Duration {
	return min(max(every, waited/confirmSlowdown), max(every, confirmEveryAtMost))
}
