package storagepolicy

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Lister lists vCenter's storage policies (*Finder).
type Lister interface {
	List(ctx context.Context) ([]Policy, error)
}

// Cache answers from a list of vCenter's policies it fetches at most every
// TTL, and again at once when asked for an id it does not hold, so that a
// policy an admin just created is found without waiting. One Cache serves
// the REST API's validation and the controllers alike.
type Cache struct {
	Lister Lister
	// TTL is how long a fetched list answers; a minute when zero.
	TTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu       sync.Mutex
	policies []Policy
	fetched  time.Time
}

// Policies returns every policy, listing again when the list is older than
// the TTL or lacks one of ids.
func (c *Cache) Policies(ctx context.Context, ids ...string) ([]Policy, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, ttl := time.Now, c.TTL
	if c.Now != nil {
		now = c.Now
	}
	if ttl == 0 {
		ttl = time.Minute
	}
	fresh := !c.fetched.IsZero() && now().Sub(c.fetched) < ttl
	for _, id := range ids {
		if _, ok := ByID(c.policies, id); !ok {
			fresh = false
		}
	}
	if fresh {
		return c.policies, nil
	}
	policies, err := c.Lister.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list vCenter's storage policies: %w", err)
	}
	c.policies, c.fetched = policies, now()
	return policies, nil
}

// Policy returns the policy with id; found is false when vCenter has none.
func (c *Cache) Policy(ctx context.Context, id string) (Policy, bool, error) {
	policies, err := c.Policies(ctx, id)
	if err != nil {
		return Policy{}, false, err
	}
	p, ok := ByID(policies, id)
	return p, ok, nil
}
