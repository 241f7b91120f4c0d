package harness

import (
	"context"
	"os"
	"path/filepath"
	"runtime"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
)

// SeedStorageClass is the storage class the seed manifest names.
const SeedStorageClass = "k8s-storage"

// SeedTKC returns the seed manifest (templates/samples/tkc-v1alpha1.yaml),
// unchanged but for its namespace, h's. It also makes the storage class the
// seed names place VMs on this harness's datastore, replacing another
// test's (StorageClasses are cluster-wide), for the test's lifetime.
func (h *Harness) SeedTKC() *unstructured.Unstructured {
	h.T.Helper()
	ctx := context.Background()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: SeedStorageClass}, Provisioner: "csi.vsphere.vmware.com",
		Parameters: map[string]string{virtualmachine.StorageClassDatastoreURLParameter: h.Sim.DatastoreURL}}
	_ = h.Client.Delete(ctx, sc)
	if err := h.Client.Create(ctx, sc); err != nil {
		h.T.Fatal(err)
	}
	h.T.Cleanup(func() { _ = h.Client.Delete(context.Background(), sc) })

	_, self, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "templates", "samples", "tkc-v1alpha1.yaml"))
	if err != nil {
		h.T.Fatal(err)
	}
	seed := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &seed.Object); err != nil {
		h.T.Fatal(err)
	}
	seed.SetNamespace(h.Namespace)
	return seed
}
