package wait

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeT records what For reports instead of ending the test.
type fakeT struct {
	testing.TB
	fatal string
	logs  []string
}

func (f *fakeT) Helper()                    {}
func (f *fakeT) Fatal(args ...any)          { f.fatal = fmt.Sprint(args...) }
func (f *fakeT) Logf(s string, args ...any) { f.logs = append(f.logs, fmt.Sprintf(s, args...)) }

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	For(t, time.Minute, "the third call", func() (bool, error) {
		calls++
		if calls < 3 {
			return false, fmt.Errorf("call %d", calls)
		}
		return true, nil
	})
	if calls != 3 {
		t.Errorf("want the condition checked until it held (3 calls), got %d", calls)
	}
}

func TestForFailsWithWhatAndTheLastError(t *testing.T) {
	f := &fakeT{}
	calls := 0
	For(f, 50*time.Millisecond, "the VMs to go", func() (bool, error) {
		calls++
		return false, fmt.Errorf("%d VMs left", calls)
	})
	want := fmt.Sprintf("timed out after 50ms waiting for the VMs to go: %d VMs left", calls)
	if f.fatal != want {
		t.Errorf("want the test failed with %q, got %q", want, f.fatal)
	}
}

func TestForLogsWhatItWaitedFor(t *testing.T) {
	f := &fakeT{}
	For(f, time.Minute, "the VIP", func() (bool, error) { return true, nil })
	if f.fatal != "" || len(f.logs) != 1 || !strings.HasPrefix(f.logs[0], "the VIP: ") {
		t.Errorf("want one log line naming the wait and no failure, got logs %q, failure %q", f.logs, f.fatal)
	}
}

func TestPollWithoutAnErrorNamesWhat(t *testing.T) {
	err := Poll(context.Background(), time.Millisecond, 20*time.Millisecond, "the Node", func() (bool, error) { return false, nil })
	if err == nil || err.Error() != "timed out after 20ms waiting for the Node" {
		t.Errorf("got %v", err)
	}
}

func TestPollStopsWithItsContextsCause(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stopped := errors.New("the manager stopped")
	notYet := errors.New("not started")
	err := Poll(ctx, time.Millisecond, time.Hour, "the webhook server", func() (bool, error) {
		cancel(stopped)
		return false, notYet
	})
	if !errors.Is(err, notYet) || !strings.Contains(err.Error(), "stopped (the manager stopped) waiting for the webhook server") {
		t.Errorf("want the wait stopped with the context's cause and the last error, got %v", err)
	}
}
