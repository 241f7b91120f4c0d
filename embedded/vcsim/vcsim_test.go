package vcsim

import (
	"context"
	"testing"

	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

func TestStartCreatesTheNamespacesStoragePolicy(t *testing.T) {
	ctx := context.Background()
	sim, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()
	policies, err := (&storagepolicy.Finder{Client: sim.Client.Client}).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := storagepolicy.ByID(policies, sim.StoragePolicyID)
	if !ok || p.Name != StoragePolicy {
		t.Fatalf("policy %q (%s) not listed as %s: %+v", sim.StoragePolicyID, p.Name, StoragePolicy, policies)
	}
	if storagepolicy.StorageClassName(p.Name) != "k8s-storage" {
		t.Errorf("the policy's class is %q, want k8s-storage", storagepolicy.StorageClassName(p.Name))
	}
}
