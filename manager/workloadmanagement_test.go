package manager

import (
	"context"
	"testing"

	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

type listedPolicies []storagepolicy.Policy

func (l listedPolicies) List(context.Context) ([]storagepolicy.Policy, error) { return l, nil }

// TestPolicyCacheNamesClassesAsVSphere: the controllers see each policy
// with the StorageClass name vSphere gives it.
func TestPolicyCacheNamesClassesAsVSphere(t *testing.T) {
	if policyCache(nil) != nil {
		t.Error("no lister must give no policies")
	}
	c := policyCache(&storagepolicy.Cache{Lister: listedPolicies{{ID: "aa6d5a82", Name: "K8s Storage"}}})
	p, found, err := c.StoragePolicy(context.Background(), "aa6d5a82")
	if err != nil || !found || p.Name != "K8s Storage" || p.StorageClass != "k8s-storage" {
		t.Errorf("StoragePolicy = %+v, %v, %v", p, found, err)
	}
	if _, found, _ := c.StoragePolicy(context.Background(), "other"); found {
		t.Error("an unknown id was found")
	}
}
