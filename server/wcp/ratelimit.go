package wcp

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: one credential check every Every, up to Burst at
// once. A zero Every means no limit.
type Rate struct {
	Every time.Duration
	Burst int
}

// RateLimits bound how often credentials are checked against vCenter, so
// that the login service cannot be used to guess passwords or to flood
// vCenter. Every Basic-authenticated request counts; Bearer requests do
// not (they are checked locally).
type RateLimits struct {
	// PerUser counts checks per user name, whatever the source.
	PerUser Rate
	// PerSource counts checks per client IP address.
	PerSource Rate
}

// DefaultRateLimits allow a user 10 checks at once and then one every 6s
// (10 a minute), and an address 30 at once and then one a second.
var DefaultRateLimits = RateLimits{
	PerUser:   Rate{Every: 6 * time.Second, Burst: 10},
	PerSource: Rate{Every: time.Second, Burst: 30},
}

// limiterTable is a token bucket per key, dropping the buckets that have
// been idle long enough to be full again (a new one is the same).
type limiterTable struct {
	limit rate.Limit
	burst int
	// idle is how long a bucket takes to refill.
	idle time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket // key -> bucket
	lastSweep time.Time
}

type bucket struct {
	limiter  *rate.Limiter
	lastUsed time.Time
}

func newLimiterTable(r Rate) *limiterTable {
	t := &limiterTable{limit: rate.Inf, burst: r.Burst, buckets: map[string]*bucket{}}
	if r.Every > 0 {
		t.limit = rate.Every(r.Every)
		t.idle = r.Every * time.Duration(max(r.Burst, 1))
	}
	if t.burst < 1 {
		t.burst = 1
	}
	return t
}

// allow takes a token for key at now; when there is none it says how long
// until there is.
func (t *limiterTable) allow(key string, now time.Time) (bool, time.Duration) {
	if t.limit == rate.Inf {
		return true, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	b, ok := t.buckets[key]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(t.limit, t.burst)}
		t.buckets[key] = b
	}
	b.lastUsed = now
	if b.limiter.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.limiter.TokensAt(now)
	return false, time.Duration(math.Ceil(missing / float64(t.limit) * float64(time.Second)))
}

func (t *limiterTable) sweep(now time.Time) {
	if now.Sub(t.lastSweep) < t.idle {
		return
	}
	t.lastSweep = now
	for key, b := range t.buckets {
		if now.Sub(b.lastUsed) >= t.idle {
			delete(t.buckets, key)
		}
	}
}

// credentialLimiter applies RateLimits.
type credentialLimiter struct {
	users   *limiterTable
	sources *limiterTable
}

func newCredentialLimiter(l RateLimits) *credentialLimiter {
	return &credentialLimiter{users: newLimiterTable(l.PerUser), sources: newLimiterTable(l.PerSource)}
}

// allow takes a token for the source address and one for the user.
func (c *credentialLimiter) allow(user, source string, now time.Time) (bool, time.Duration) {
	if ok, wait := c.sources.allow(source, now); !ok {
		return false, wait
	}
	return c.users.allow(user, now)
}
