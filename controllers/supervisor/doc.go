// Package supervisor drives a Supervisor (Workload Management enabled on a
// vSphere cluster through vCenter's namespace-management API) to RUNNING:
// from its spec it makes the lbapi LoadBalancer of the HAProxy appliance,
// the primary WorkloadNetwork, the StorageClasses of the master, ephemeral
// and image storage policies, and the supervisor's endpoint, a selector-less
// Service of type LoadBalancer (kube-system/kube-apiserver-lb-svc) asking
// lbapi for the first VIP, whose EndpointSlices point at the API server
// that serves the supervisor. It reports config_status, kubernetes_status
// (the API server's /readyz), the endpoint and its certificate.
//
// Disabling (deleting the Supervisor) deletes the cluster's
// VSphereNamespaces first and waits for them, then what it made. It writes
// only Kubernetes objects; vCenter is reached only through the PortGroups
// and StoragePolicies interfaces it is given. It must not touch what lbapi
// owns (LoadBalancer status, the Service's status) or objects of the same
// names it did not make: those are reported as conflicts.
package supervisor
