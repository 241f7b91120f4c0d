package wcp

import (
	"context"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Defaults of KeyRotation.
const (
	DefaultKeyMaxAge        = 30 * 24 * time.Hour
	DefaultRotationInterval = time.Hour
)

// KeyRotation is a manager.Runnable, for the leader only, that rotates the
// signing key once it is older than MaxAge, looking every CheckEvery. A
// failed rotation is logged and tried again at the next look.
type KeyRotation struct {
	Keys *KeySet
	// MaxAge is how long a key signs; DefaultKeyMaxAge when zero.
	MaxAge time.Duration
	// CheckEvery is how often the key's age is looked at;
	// DefaultRotationInterval when zero.
	CheckEvery time.Duration
	// Clock ticks; the real one when nil.
	Clock clock.WithTicker

	// checked, when set (tests), hears of every look.
	checked chan<- bool
}

// NeedLeaderElection: one replica rotates; the others see the new key in
// the Secret.
func (r *KeyRotation) NeedLeaderElection() bool { return true }

// Start looks at the key's age every CheckEvery until ctx ends.
func (r *KeyRotation) Start(ctx context.Context) error {
	clk := r.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	every := r.CheckEvery
	if every <= 0 {
		every = DefaultRotationInterval
	}
	ticker := clk.NewTicker(every)
	defer ticker.Stop()
	r.run(ctx, ticker.C())
	return nil
}

// run checks at every tick until ctx ends.
func (r *KeyRotation) run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			rotated := r.check(ctx)
			if r.checked != nil {
				r.checked <- rotated
			}
		}
	}
}

// check rotates the key if it is too old and says whether it did.
func (r *KeyRotation) check(ctx context.Context) bool {
	maxAge := r.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultKeyMaxAge
	}
	rotated, err := r.Keys.RotateIfOlder(ctx, maxAge)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to rotate the login service's signing key")
	}
	return rotated
}
