// Package guestsim simulates what cloud-init and kubeadm would do inside the
// VMs of guest clusters, for the embedded stack and tests: vcsim VMs run
// nothing, yet Cluster API must see the clusters it creates come alive.
//
// It watches VirtualMachines (vmoperator.vmware.com) labelled with a Cluster
// API cluster (capv.vmware.com/cluster.name, .../cluster.role). Once such a VM
// is powered on with an IPv4 address, a BIOS UUID and its bootstrap Secret,
// and Options.BootDelay has passed, the VM "boots":
//
//   - its Node, with providerID vsphere://<biosUUID> and the Machine's
//     Kubernetes version, appears in the guest cluster, an in-memory resource
//     group of Cluster API's in-memory runtime (one per Cluster, named
//     <namespace>/<name>, created with the cluster's first VM and removed
//     with its last);
//   - a control-plane VM also gets the static Pods kubeadm would start, an
//     etcd member and an API server on Cluster API's WorkloadClustersMux
//     (certificates from the cluster's <cluster>-ca and <cluster>-etcd
//     Secrets), kubeadm's cluster-wide objects, and a TLS endpoint on
//     <VM IP>:6443 (proxy.go) that forwards to the mux, so that the
//     control-plane VIP on HAProxy, and KubeadmControlPlane through it, reach
//     a guest API server and etcd.
//
// Powering a VM off or deleting it removes what it booted. State lives in
// memory only, like a VM's RAM: after a restart the guests boot again from
// the VMs, without the delay for VMs already Ready.
//
// Wiring (the embedded stack's addToManager, or a test's manager, after
// providers/clusterapi.Setup):
//
//	sim, err := guestsim.Setup(mgr, guestsim.Options{BootDelay: 2 * time.Second})
//
// Setup only registers; the in-memory runtime and the mux start with the
// manager and stop with it. Give every process that runs a Simulator its own
// Options.MinPort..MaxPort: the mux binds those ports (and an ephemeral
// debug port) on all interfaces, which Cluster API's package does not let
// us narrow to loopback; all traffic still goes to 127.0.0.1.
//
// Cluster API's ClusterCache tries a Cluster as soon as its infrastructure
// is provisioned, long before a control plane boots, and after a failed
// attempt waits 30s. Stacks that want clusters up quickly shorten that as
// Cluster API's own tests do, on the ClusterCache providers/clusterapi.Setup
// returns:
//
//	cc.(interface{ SetConnectionCreationRetryInterval(time.Duration) }).
//		SetConnectionCreationRetryInterval(time.Second)
package guestsim
