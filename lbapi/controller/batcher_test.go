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

// Changes that never pause are synced maxWait after the first of them.
func TestBatcherSyncsAStreamOfChangesWithinMaxWait(t *testing.T) {
	q := newRecordingQueue(t)
	const maxWait = 300 * time.Millisecond
	b := &batcher{window: 200 * time.Millisecond, maxWait: maxWait}
	first := time.Now()
	for time.Since(first) < time.Minute && len(q.adds()) == 0 {
		b.add(q)
		time.Sleep(5 * time.Millisecond)
	}
	adds := q.adds()
	if len(adds) == 0 {
		t.Fatal("changes that kept coming for a minute were never synced")
	}
	if adds[0].Sub(first) < maxWait {
		t.Fatalf("the sync came %v after the first change, want maxWait (%v)", adds[0].Sub(first), maxWait)
	}
}
