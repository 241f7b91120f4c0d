package clusterapi

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"

	bootstrapadmission "sigs.k8s.io/cluster-api/bootstrap/kubeadm/webhooks/admission"
	controlplaneadmission "sigs.k8s.io/cluster-api/controlplane/kubeadm/webhooks/admission"
	controlplaneconversion "sigs.k8s.io/cluster-api/controlplane/kubeadm/webhooks/conversion"
	coreadmission "sigs.k8s.io/cluster-api/core/webhooks/admission"
	coreconversion "sigs.k8s.io/cluster-api/core/webhooks/conversion"
)

// setupWebhooks registers the defaulting and validating webhooks of the
// three providers on mgr's webhook server; each also registers its kinds'
// converter, so the server's /convert handles v1beta1 <-> v1beta2. The paths
// match config/webhook/capi/ (copied from the same module).
func setupWebhooks(mgr ctrl.Manager, clusterCache coreadmission.ClusterCacheReader) error {
	// Converting a v1beta1 reference (apiVersion) to v1beta2 (group only)
	// and back needs the referenced kind's current apiVersion, read from its
	// CRD's contract labels.
	getter := func(ctx context.Context, gk schema.GroupKind) (string, error) {
		return apiVersionFromContract(ctx, mgr.GetClient(), gk)
	}
	coreconversion.SetAPIVersionGetter(getter)
	controlplaneconversion.SetAPIVersionGetter(getter)

	type webhook interface{ SetupWebhookWithManager(ctrl.Manager) error }
	for _, w := range []webhook{
		// ClusterClass and Cluster refuse topologies unless ClusterTopology is on.
		&coreadmission.ClusterClass{Client: mgr.GetClient()},
		&coreadmission.Cluster{Client: mgr.GetClient(), ClusterCacheReader: clusterCache},
		&coreadmission.Machine{},
		&coreadmission.MachineSet{},
		&coreadmission.MachineDeployment{},
		&coreadmission.MachineDrainRule{},
		&coreadmission.MachinePool{},
		&coreadmission.ClusterResourceSet{},
		&coreadmission.ClusterResourceSetBinding{},
		&coreadmission.MachineHealthCheck{},
		&coreadmission.ExtensionConfig{},
		// The API reader: caching every IPAddressClaim only for this check is waste.
		&coreadmission.IPAddress{Client: mgr.GetAPIReader()},
		&coreadmission.IPAddressClaim{},

		&controlplaneadmission.KubeadmControlPlane{},
		&controlplaneadmission.ScaleValidator{Client: mgr.GetClient()},
		&controlplaneadmission.KubeadmControlPlaneTemplate{},

		&bootstrapadmission.KubeadmConfig{},
		&bootstrapadmission.KubeadmConfigTemplate{},
	} {
		if err := w.SetupWebhookWithManager(mgr); err != nil {
			return fmt.Errorf("failed to set up the Cluster API webhook for %T: %w", w, err)
		}
	}
	return nil
}
