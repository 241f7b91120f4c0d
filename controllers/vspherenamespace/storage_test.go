package vspherenamespace

import (
	"testing"

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
