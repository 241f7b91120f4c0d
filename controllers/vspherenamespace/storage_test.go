package vspherenamespace

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
)

func TestDatastoreURLParameterIsTheVMServices(t *testing.T) {
	if DatastoreURLParameter != virtualmachine.StorageClassDatastoreURLParameter {
		t.Fatalf("%q != the VM service's %q", DatastoreURLParameter, virtualmachine.StorageClassDatastoreURLParameter)
	}
}

func TestNewStorageClass(t *testing.T) {
	sc := NewStorageClass(StoragePolicy{ID: "aa6d5a82", Name: "K8s Storage", StorageClass: "k8s-storage"}, "ds:///vmfs/volumes/x/", "domain-c8")
	if sc.Name != "k8s-storage" || sc.Provisioner != CSIProvisioner ||
		sc.Parameters[StoragePolicyIDParameter] != "aa6d5a82" || sc.Parameters[DatastoreURLParameter] != "ds:///vmfs/volumes/x/" ||
		sc.Labels[SupervisorLabel] != "domain-c8" {
		t.Errorf("StorageClass = %+v", sc)
	}
	bare := NewStorageClass(StoragePolicy{ID: "p", StorageClass: "c"}, "", "not a label value!")
	if _, ok := bare.Parameters[DatastoreURLParameter]; ok || bare.Labels != nil {
		t.Errorf("without a datastore or a valid supervisor name: %+v", bare)
	}
}

func TestPolicyCache(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(0, 0)
	calls := 0
	policies := []StoragePolicy{{ID: "a", Name: "A", StorageClass: "a"}}
	var fail error
	c := &PolicyCache{
		TTL: time.Minute, Now: func() time.Time { return now },
		List: func(context.Context) ([]StoragePolicy, error) { calls++; return policies, fail },
	}
	steps := []struct {
		name      string
		id        string
		advance   time.Duration
		add       *StoragePolicy
		wantFound bool
		wantCalls int
	}{
		{"first lookup lists", "a", 0, nil, true, 1},
		{"cached", "a", 10 * time.Second, nil, true, 1},
		{"unknown id lists again", "b", 0, nil, false, 2},
		{"a policy just created is found at once", "b", 0, &StoragePolicy{ID: "b", StorageClass: "b"}, true, 3},
		{"stale after the TTL", "a", 2 * time.Minute, nil, true, 4},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if s.add != nil {
			policies = append(policies, *s.add)
		}
		_, found, err := c.StoragePolicy(ctx, s.id)
		if err != nil || found != s.wantFound || calls != s.wantCalls {
			t.Fatalf("%s: found %v, err %v, %d lists; want %v, %d", s.name, found, err, calls, s.wantFound, s.wantCalls)
		}
	}
	fail = errors.New("vCenter is down")
	if _, _, err := c.StoragePolicy(ctx, "zzz"); err == nil {
		t.Error("a failed list must be an error, not a missing policy")
	}
}
