package controller

import (
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// batcher adds the sync key once changes stopped coming for window, or
// maxWait after the first of them, whichever is sooner. A burst spread
// over a few hundred milliseconds (a guest's Services, whose
// VirtualMachineServices are created one after the other) then goes in one
// sync and one HAProxy commit, where a fixed window from the first change
// would cut it in two, and the second part would wait for the next reload.
type batcher struct {
	window, maxWait time.Duration

	mu sync.Mutex
	// first and last are the burst's first and latest changes; timer is
	// set while a burst is gathered.
	first, last time.Time
	timer       *time.Timer
	queue       workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// add records a change; the burst's sync is added to q.
func (b *batcher) add(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.last, b.queue = now, q
	if b.timer == nil {
		b.first = now
		b.timer = time.AfterFunc(b.window, b.fire)
	}
}

// fire adds the sync if the burst is over, else waits for its end.
func (b *batcher) fire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	due := b.last.Add(b.window)
	if limit := b.first.Add(b.maxWait); limit.Before(due) {
		due = limit
	}
	if wait := time.Until(due); wait > 0 {
		b.timer.Reset(wait)
		return
	}
	b.timer = nil
	b.queue.Add(syncKey)
}
