package vspherenamespace

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// StorageClass parameters and labels of the classes made for storage policies.
const (
	// CSIProvisioner is vSphere CSI's provisioner name.
	CSIProvisioner = "csi.vsphere.vmware.com"
	// StoragePolicyIDParameter names the policy (vSphere CSI's parameter).
	StoragePolicyIDParameter = "storagePolicyID"
	// DatastoreURLParameter names the datastore the VM service places
	// disks on; the same key as providers/vsphere/virtualmachine's
	// StorageClassDatastoreURLParameter (a test keeps them equal).
	DatastoreURLParameter = "datastoreURL"
	// SupervisorLabel marks the StorageClasses made for a Supervisor's
	// namespaces or for the Supervisor itself, with its name: disabling
	// the Supervisor deletes them.
	SupervisorLabel = vspherev1.SupervisorLabel
)

// StoragePolicy is a vCenter storage policy and the name of the
// StorageClass vSphere gives it.
type StoragePolicy struct {
	ID, Name     string
	StorageClass string
}

// StoragePolicies finds vCenter's storage policies.
type StoragePolicies interface {
	// StoragePolicy returns the policy with id; found is false when
	// vCenter has none.
	StoragePolicy(ctx context.Context, id string) (p StoragePolicy, found bool, err error)
}

// NewStorageClass is the StorageClass of policy p: vSphere CSI's
// provisioner, the policy's id and the datastore VMs of the class go to
// ("" leaves the parameter out), labelled with the Supervisor it was made
// for ("" or a name that is not a label value leaves the label out).
func NewStorageClass(p StoragePolicy, datastoreURL, supervisor string) *storagev1.StorageClass {
	sc := &storagev1.StorageClass{
		ObjectMeta:           metav1.ObjectMeta{Name: p.StorageClass},
		Provisioner:          CSIProvisioner,
		Parameters:           map[string]string{StoragePolicyIDParameter: p.ID},
		ReclaimPolicy:        ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode:    ptr.To(storagev1.VolumeBindingImmediate),
		AllowVolumeExpansion: ptr.To(true),
	}
	if datastoreURL != "" {
		sc.Parameters[DatastoreURLParameter] = datastoreURL
	}
	if supervisor != "" && len(validation.IsValidLabelValue(supervisor)) == 0 {
		sc.Labels = map[string]string{SupervisorLabel: supervisor}
	}
	return sc
}

// ErrStorageClassTaken: a StorageClass of the policy's class name exists
// for another storage policy.
var ErrStorageClassTaken = errors.New("StorageClass exists for another storage policy")

// EnsureStorageClass creates sc unless a StorageClass of its name exists.
// An existing class is kept as it is (a StorageClass's parameters cannot
// change, and a class an admin made, such as one without a policy id, is
// theirs); only one naming a different storage policy is an
// ErrStorageClassTaken. It reports whether it created sc.
func EnsureStorageClass(ctx context.Context, c client.Client, sc *storagev1.StorageClass) (bool, error) {
	have := &storagev1.StorageClass{}
	err := c.Get(ctx, client.ObjectKey{Name: sc.Name}, have)
	switch {
	case err == nil:
		if id := have.Parameters[StoragePolicyIDParameter]; id != "" && id != sc.Parameters[StoragePolicyIDParameter] {
			return false, fmt.Errorf("StorageClass %s names storage policy %s: %w", sc.Name, id, ErrStorageClassTaken)
		}
		return false, nil
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("failed to get StorageClass %s: %w", sc.Name, err)
	}
	if err := c.Create(ctx, sc); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		return false, fmt.Errorf("failed to create StorageClass %s: %w", sc.Name, err)
	}
	return true, nil
}
