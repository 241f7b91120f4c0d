// Package clusterapi runs Cluster API in the supervisor's own manager: core
// (Cluster, Machine, MachineSet, MachineDeployment, MachineHealthCheck,
// MachinePool, ClusterResourceSet, ClusterClass and managed topologies),
// KubeadmControlPlane and the kubeadm bootstrap provider, with their
// defaulting, validating and conversion webhooks and one shared ClusterCache.
// It is the sibling of providers/vsphere: that room supplies the
// infrastructure provider, this one the providers Cluster API ships, wired
// the way their three mains wire them. It owns no API types (the CRDs are
// copied from the Cluster API module into config/ by `make manifests`) and
// knows nothing of vCenter or TanzuKubernetesClusters.
//
// Beside the providers run small primers (primers.go, ownership.go): they do
// at once the bookkeeping Cluster API's controllers would spend their first
// rate-limited reconciles on (a new Machine's or KubeadmConfig's Paused
// condition, a Machine's bootstrap config and infrastructure machine handed
// to it once it has its finalizer, a KubeadmControlPlane's finalizer once
// its Cluster owns it), writing exactly what those controllers would.
//
// Cluster API keeps process-wide state: feature gates, the conversion
// webhooks' apiVersion getters, controller and informer names. So a process
// calls ManagerOptions and Setup once, for one manager.
package clusterapi
