package controller

import (
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// recordingQueue notes when the sync was added.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	mu    sync.Mutex
	added []time.Time
}

func (q *recordingQueue) Add(item reconcile.Request) {
	q.mu.Lock()
	q.added = append(q.added, time.Now())
	q.mu.Unlock()
	q.TypedRateLimitingInterface.Add(item)
}

func (q *recordingQueue) adds() []time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]time.Time(nil), q.added...)
}

func newRecordingQueue(t *testing.T) *recordingQueue {
	q := &recordingQueue{TypedRateLimitingInterface: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())}
	t.Cleanup(q.ShutDown)
	return q
}

// A burst of changes is synced once they stopped coming for a window, not
// a window after the first: the whole burst goes in one commit.
func TestBatcherWaitsForTheBurstToPause(t *testing.T) {
	q := newRecordingQueue(t)
	const window = 150 * time.Millisecond
	b := &batcher{window: window, maxWait: time.Minute}
	var last time.Time
	for range 20 {
		last = time.Now()
		b.add(q)
		time.Sleep(5 * time.Millisecond)
	}
	for len(q.adds()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if added := q.adds()[0]; added.Sub(last) < window {
		t.Fatalf("the sync came %v after the burst's last change, want at least the window (%v)", added.Sub(last), window)
	}
	if got, _ := q.Get(); got != syncKey {
		t.Fatalf("want the sync key, got %v", got)
	}
}

// Changes that never pause are synced maxWait after the first of them,
// not held back for as long as they come.
func TestBatcherSyncsAStreamOfChangesWithinMaxWait(t *testing.T) {
	q := newRecordingQueue(t)
	const window, maxWait = 200 * time.Millisecond, 300 * time.Millisecond
	b := &batcher{window: window, maxWait: maxWait}
	var changes []time.Time
	for len(q.adds()) == 0 {
		if len(changes) > 0 && time.Since(changes[0]) > time.Minute {
			t.Fatal("changes that kept coming for a minute were never synced")
		}
		changes = append(changes, time.Now())
		b.add(q)
		time.Sleep(5 * time.Millisecond)
	}
	// The sync comes only once the burst paused for a window or maxWait
	// passed since its first change: which one depends on how this test
	// was scheduled, both are right.
	synced := q.adds()[0]
	var last time.Time
	for _, c := range changes {
		if c.Before(synced) {
			last = c
		}
	}
	if synced.Sub(changes[0]) < maxWait && synced.Sub(last) < window {
		t.Fatalf("the sync came %v after the first change and %v after the last before it: neither maxWait (%v) nor a pause of a window (%v)",
			synced.Sub(changes[0]), synced.Sub(last), maxWait, window)
	}
}
