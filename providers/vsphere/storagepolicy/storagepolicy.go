package storagepolicy

import (
	"context"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/pbm"
	pbmtypes "github.com/vmware/govmomi/pbm/types"
	"github.com/vmware/govmomi/vim25"
)

// Policy is one storage policy: its id (a UUID, what the namespace API
// carries) and its display name.
type Policy struct {
	ID   string
	Name string
}

// Finder lists the storage policies of one vCenter.
type Finder struct {
	Client *vim25.Client
}

// List returns every storage requirement policy, in vCenter's order.
func (f *Finder) List(ctx context.Context) ([]Policy, error) {
	c, err := pbm.NewClient(ctx, f.Client)
	if err != nil {
		return nil, fmt.Errorf("failed to reach vCenter's storage policy service: %w", err)
	}
	ids, err := c.QueryProfile(ctx, pbmtypes.PbmProfileResourceType{
		ResourceType: string(pbmtypes.PbmProfileResourceTypeEnumSTORAGE),
	}, string(pbmtypes.PbmProfileCategoryEnumREQUIREMENT))
	if err != nil {
		return nil, fmt.Errorf("failed to list storage policies: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	profiles, err := c.RetrieveContent(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("failed to read storage policies: %w", err)
	}
	policies := make([]Policy, 0, len(profiles))
	for _, p := range profiles {
		base := p.GetPbmProfile()
		policies = append(policies, Policy{ID: base.ProfileId.UniqueId, Name: base.Name})
	}
	return policies, nil
}

// ByID finds the policy with id among policies.
func ByID(policies []Policy, id string) (Policy, bool) {
	for _, p := range policies {
		if p.ID == id {
			return p, true
		}
	}
	return Policy{}, false
}

// StorageClassName is the StorageClass name vSphere gives a policy: its
// name lowercased, every run of characters a DNS label may not hold
// replaced by one dash, trimmed to 63 characters ("vSAN Default Storage
// Policy" → "vsan-default-storage-policy").
func StorageClassName(policyName string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(policyName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	return name
}
