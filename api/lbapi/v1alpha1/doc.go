// Package v1alpha1 holds the lbapi.opensupervisor.io kinds: LoadBalancer, one
// HAProxy load balancer as the Workload Management enable spec describes it
// (provider HA_PROXY, Data Plane API servers, credentials, CA chain, VIP
// ranges), and the state lbapi reports about it; the condition types and
// reasons lbapi writes, on LoadBalancers and on the Services it serves, as
// constants other controllers read (condition_consts.go); and the pure
// validation the webhook applies. It holds no client and no controller
// logic.
//
// +kubebuilder:object:generate=true
// +groupName=lbapi.opensupervisor.io
package v1alpha1
