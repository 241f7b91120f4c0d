// Package infrastructure is the Cluster API infrastructure provider for
// supervisor-style clusters, as CAPV's supervisor mode does it: a
// VSphereCluster's control-plane endpoint is a VirtualMachineService of
// type LoadBalancer on 6443 selecting the cluster's control-plane VMs
// (lbapi gives it a VIP), and a VSphereMachine is one vm-operator
// VirtualMachine booted with the Machine's bootstrap data, which the VM
// service clones in vCenter, plus a PersistentVolumeClaim per volume.
// It reads and writes the storage version, vmware.infrastructure.cluster.x-k8s.io/v1beta2,
// and sets what CAPV sets, so CAPV's readers find it: a VSphereCluster's
// LoadBalancerReady and Ready, a VSphereMachine's status.phase, biosUUID,
// addresses, failureDomain, initialization.provisioned and its
// VirtualMachineProvisioned and Ready conditions, with their v1beta1
// counterparts (which v1beta1 readers see as status.conditions, beside
// vmIp, vmID, ready and vmstatus). SetupWebhooks serves the kinds'
// v1beta1 <-> v1beta2 conversion.
//
// Everything it makes is controlled by the VSphereCluster or VSphereMachine
// it is made for, so the garbage collector deletes it with its owner. Only
// a VSphereMachine holds a finalizer, while its VM is destroyed in vCenter,
// because Cluster API deletes the Machine once the infrastructure is gone;
// the VirtualMachine's disappearance, watched, lets it go.
//
// It owns VSphereClusters' and VSphereMachines' status and finalizers and
// the objects it makes; it talks to no vCenter itself (the VM service
// does), writes no Cluster API object, and deletes nothing by hand that
// the garbage collector deletes.
package infrastructure
