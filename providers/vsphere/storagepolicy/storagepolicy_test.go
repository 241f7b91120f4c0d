package storagepolicy

import (
	"context"
	"testing"

	_ "github.com/vmware/govmomi/pbm/simulator" // the storage policy endpoint
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

func TestStorageClassName(t *testing.T) {
	for in, want := range map[string]string{
		"vSAN Default Storage Policy": "vsan-default-storage-policy",
		"k8s-storage":                 "k8s-storage",
		"  Gold  (tier 1)!":           "gold-tier-1",
		"VM_Encryption.Policy":        "vm-encryption-policy",
	} {
		if got := StorageClassName(in); got != want {
			t.Errorf("StorageClassName(%q) = %q, want %q", in, got, want)
		}
	}
	long := StorageClassName("a very long policy name that goes on and on and on past the sixty-three characters a label may hold")
	if len(long) > 63 || long[len(long)-1] == '-' {
		t.Errorf("long name %q: %d characters", long, len(long))
	}
}

func TestListReadsTheSimulatorsPolicies(t *testing.T) {
	simulator.Test(func(ctx context.Context, c *vim25.Client) {
		policies, err := (&Finder{Client: c}).List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var found Policy
		for _, p := range policies {
			if p.Name == "vSAN Default Storage Policy" {
				found = p
			}
		}
		if found.ID == "" {
			t.Fatalf("vSAN Default Storage Policy not listed: %+v", policies)
		}
		if p, ok := ByID(policies, found.ID); !ok || p.Name != found.Name {
			t.Errorf("ByID(%s) = %+v, %v", found.ID, p, ok)
		}
		if _, ok := ByID(policies, "no-such-id"); ok {
			t.Error("ByID found an unknown id")
		}
	})
}
