package infrastructure

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// SetupWebhooks registers the conversion of every kind of
// vmware.infrastructure.cluster.x-k8s.io (v1beta1 <-> the v1beta2 hub) on
// the manager's /convert, which the CRDs' conversion webhook calls.
func SetupWebhooks(mgr ctrl.Manager) error {
	for _, obj := range []client.Object{&vmwarev1.VSphereCluster{}, &vmwarev1.VSphereClusterTemplate{},
		&vmwarev1.VSphereMachine{}, &vmwarev1.VSphereMachineTemplate{}, &vmwarev1.ProviderServiceAccount{}} {
		if err := ctrl.NewWebhookManagedBy(mgr, obj).Complete(); err != nil {
			return fmt.Errorf("conversion webhook of %T: %w", obj, err)
		}
	}
	return nil
}
