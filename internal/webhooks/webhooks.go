// Package webhooks registers every admission webhook of the supervisor on a
// manager's webhook server, so the binary and the test harness serve the
// same set.
package webhooks

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/tanzukubernetescluster"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
)

// Setup registers the webhooks with mgr: the LoadBalancer's validation and
// the TanzuKubernetesClusters' defaulting, validation and conversion.
func Setup(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &lbv1.LoadBalancer{}).
		WithValidator(&lbcontroller.LoadBalancerValidator{Reader: mgr.GetAPIReader()}).
		Complete(); err != nil {
		return fmt.Errorf("LoadBalancer webhook: %w", err)
	}
	if err := tanzukubernetescluster.SetupWebhooks(mgr, &tanzukubernetescluster.ClientLookups{Reader: mgr.GetAPIReader()}); err != nil {
		return fmt.Errorf("TanzuKubernetesCluster webhooks: %w", err)
	}
	return nil
}
