// Package guests keeps what the supervisor owes each guest cluster, from
// the supervisor's side, through Cluster API's ClusterCache:
//
//   - loadbalancer.go is vSphere's paravirtual cloud provider run in the
//     supervisor: a guest Service of type LoadBalancer becomes a
//     VirtualMachineService of type LoadBalancer in the cluster's vSphere
//     Namespace, selecting the cluster's worker VMs on the Service's node
//     ports, and the VIP lbapi gives it is written back into the guest
//     Service's status;
//   - auth.go keeps the guest's ClusterRoleBindings
//     vmware-system-auth-sync-wcp:<namespace>:… that make the vSphere
//     Namespace's EDIT and OWNER users (and vCenter's Administrators)
//     cluster-admin, as vSphere's guest clusters do;
//   - providerserviceaccount.go realises CAPV's ProviderServiceAccounts: a
//     ServiceAccount, Role, RoleBinding and token Secret in the cluster's
//     namespace, and the token copied into the guest as the Secret the
//     account names.
//
// Running both in the supervisor, rather than as addons in each guest with
// a namespace-scoped credential as vSphere does, means a guest holds no
// supervisor credential at all: it can touch nothing in the supervisor,
// not even its own namespace's VirtualMachineServices. (The simulated
// guests also run no Pods, so an addon could not run in them.) The package
// writes only VirtualMachineServices, and a ProviderServiceAccount's
// ServiceAccount, Role, RoleBinding and token Secret, in the cluster's own
// namespace (and the VSphereCluster's ProviderServiceAccountsReady
// condition), and in guests only Service status, the auth-sync
// ClusterRoleBindings and the Secrets ProviderServiceAccounts name.
package guests
