package wait

import (
	"context"
	"errors"
	"fmt"
	"time"

	kwait "k8s.io/apimachinery/pkg/util/wait"

	"github.com/open-supervisor/supervisor/test/tb"
)

// Interval is how often For checks its condition.
const Interval = 100 * time.Millisecond

// Condition reports whether what a test waits for holds. Unlike
// apimachinery's conditions, an error does not end the wait: it says why
// the condition does not hold yet (an object not found, a status not yet
// written), and the last one is what a timed-out wait reports.
type Condition func() (done bool, err error)

// For checks cond every Interval until it holds and logs how long that
// took; once timeout passes it fails t with what and cond's last error.
// cond runs on the caller's goroutine, so it may call t.Fatal itself when
// it sees something that must never happen while waiting.
func For(t tb.TB, timeout time.Duration, what string, cond Condition) {
	t.Helper()
	start := time.Now()
	if err := Poll(context.Background(), Interval, timeout, what, cond); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", what, time.Since(start).Round(10*time.Millisecond))
}

// Poll checks cond every interval until it holds, timeout passes or ctx
// ends, and returns an error naming what and cond's last error in the
// latter two cases (with ctx's cause when ctx ended). It is For for code
// that has no test to fail (TestMain and suite start-up, which stop the
// wait early by cancelling ctx with a cause), and for benchmarks, whose
// measurements depend on the interval they poll at.
func Poll(ctx context.Context, interval, timeout time.Duration, what string, cond Condition) error {
	var last error
	err := kwait.PollUntilContextTimeout(ctx, interval, timeout, true, func(context.Context) (bool, error) {
		done, err := cond()
		last = err
		return done, nil
	})
	if err == nil {
		return nil
	}
	reason := fmt.Sprintf("timed out after %s", timeout)
	if ctx.Err() != nil {
		reason = fmt.Sprintf("stopped (%v)", context.Cause(ctx))
	}
	if last != nil {
		return fmt.Errorf("%s waiting for %s: %w", reason, what, last)
	}
	return errors.New(reason + " waiting for " + what)
}
