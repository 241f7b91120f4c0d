// Package retry runs the supervisor's one-off start-up steps (seeding
// ClusterRoles, the system namespace, the login keys) until they succeed:
// a runnable that returns an error stops the whole manager, and a passing
// API server error at start-up must not take the supervisor down.
package retry

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
)

// backoff waits 200 ms after the first failure, doubling up to 10 s.
var backoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Cap: 10 * time.Second, Steps: 1 << 30}

// UntilDone runs step until it returns nil or ctx ends, logging each
// failure; it returns ctx's error if ctx ended first.
func UntilDone(ctx context.Context, what string, step func(context.Context) error) error {
	log := ctrl.LoggerFrom(ctx)
	return wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		if err := step(ctx); err != nil {
			log.Error(err, "Will retry", "step", what)
			return false, nil
		}
		return true, nil
	})
}
