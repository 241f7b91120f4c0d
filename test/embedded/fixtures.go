// Package embedded holds what the embedded supervisor (and the tests built
// on it) sets up on top of vcsim and a fresh kube-apiserver: the workload
// network on loopback, the k8s-storage StorageClass on the simulator's
// datastore, and the vSphere Namespace ns1.
package embedded

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
	"github.com/open-supervisor/supervisor/test/vcsim"
)

// Names of the embedded objects.
const (
	WorkloadNetwork = "workload"
	StorageClass    = "k8s-storage"
	Namespace       = "ns1"
	// WorkloadRange is where VMs get addresses: loopback, so traffic to a
	// VM's address really reaches a listener on this machine.
	WorkloadRange  = "127.20.0.10-127.20.15.250"
	WorkloadPrefix = 16
	WorkloadGW     = "127.20.0.1"
)

// Objects returns the objects the embedded stack creates.
func Objects(sim *vcsim.Simulator) []client.Object {
	return []client.Object{
		&vspherev1.WorkloadNetwork{
			ObjectMeta: metav1.ObjectMeta{Name: WorkloadNetwork},
			Spec: vspherev1.WorkloadNetworkSpec{
				PortGroup:     vcsim.WorkloadPortGroup,
				AddressRanges: []string{WorkloadRange},
				PrefixLength:  WorkloadPrefix,
				Gateway:       WorkloadGW,
			},
		},
		&storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: StorageClass},
			Provisioner: "csi.vsphere.vmware.com",
			Parameters:  map[string]string{virtualmachine.StorageClassDatastoreURLParameter: sim.DatastoreURL},
		},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   Namespace,
			Labels: map[string]string{namespace.VSphereNamespaceLabel: "true"},
		}},
	}
}

// Create creates objects that do not exist yet.
func Create(ctx context.Context, c client.Client, objs []client.Object) error {
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}
