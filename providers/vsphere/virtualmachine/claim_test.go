package virtualmachine

import (
	"testing"
	"time"
)

func TestClaims(t *testing.T) {
	c := newClaim("manager-a")
	at, ok := claimTime(c)
	if !ok || time.Since(at) > time.Minute || time.Since(at) < 0 {
		t.Fatalf("claim %q: time %v ok %v", c, at, ok)
	}
	if _, ok := claimTime("task-42"); ok {
		t.Fatal("a task reference is not a claim")
	}
	r := &Reconciler{}
	if done, _, err := r.taskDone(t.Context(), c); err != nil || done {
		t.Fatalf("a fresh claim is in flight: done=%v err=%v", done, err)
	}
	stale := claimPrefix + "1/manager-b"
	if done, _, err := r.taskDone(t.Context(), stale); err != nil || !done {
		t.Fatalf("a claim older than %s is over: done=%v err=%v", claimTTL, done, err)
	}
}
