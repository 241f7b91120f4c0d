package vapi

import (
	"context"
	"sync"
	"time"

	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

// policyCacheTTL is how long a list of vCenter's storage policies is
// reused; an id it lacks lists again at once, so a policy just created in
// vCenter is found.
const policyCacheTTL = 30 * time.Second

// policyCache keeps vCenter's storage policies between calls: listing
// them costs a storage-policy service connection and two calls, which
// dominated a namespace create.
type policyCache struct {
	mu       sync.Mutex
	policies []storagepolicy.Policy
	at       time.Time
}

// lookup returns the policies, listing them again when the cached list is
// old or lacks one of ids.
func (s *Server) policies(ctx context.Context, ids ...string) ([]storagepolicy.Policy, error) {
	c := &s.policyCache
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := time.Since(c.at) < policyCacheTTL
	for _, id := range ids {
		if _, ok := storagepolicy.ByID(c.policies, id); !ok {
			fresh = false
		}
	}
	if fresh {
		return c.policies, nil
	}
	vc, err := s.opts.VCenterClient(ctx)
	if err != nil {
		return nil, err
	}
	policies, err := (&storagepolicy.Finder{Client: vc}).List(ctx)
	if err != nil {
		return nil, err
	}
	c.policies, c.at = policies, time.Now()
	return policies, nil
}
