// Package integration runs the supervisor's controllers (the VM service,
// lbapi, the TanzuKubernetesCluster controller, the Cluster API
// infrastructure provider) on the test harness: a real kube-apiserver and
// etcd, vcsim, HAProxy. Each test applies what a user applies and checks
// what appears (or does not) in the API, in vCenter and behind the VIPs.
//
// It holds tests only; nothing may import it.
package integration
