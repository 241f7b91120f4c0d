// Package webhooks registers every admission webhook of the supervisor on a
// manager's webhook server, so the binary and the test harness serve the
// same set.
package webhooks

import (
	ctrl "sigs.k8s.io/controller-runtime"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
)

// Setup registers the webhooks with mgr.
func Setup(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &lbv1.LoadBalancer{}).
		WithValidator(&lbcontroller.LoadBalancerValidator{Reader: mgr.GetAPIReader()}).
		Complete()
}
