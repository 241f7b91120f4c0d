package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntilDoneRetriesUntilTheStepSucceeds(t *testing.T) {
	calls := 0
	err := UntilDone(context.Background(), "flaky", func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("the server is currently unable to handle the request")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("want success on the third call, got %v after %d calls", err, calls)
	}
}

func TestUntilDoneStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	err := UntilDone(ctx, "broken", func(context.Context) error { calls++; return errors.New("forbidden") })
	if err == nil || calls == 0 {
		t.Fatalf("want ctx's error after some calls, got %v after %d calls", err, calls)
	}
}
