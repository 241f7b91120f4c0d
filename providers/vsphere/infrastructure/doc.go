// Package infrastructure is the Cluster API infrastructure provider for
// supervisor-style clusters, as CAPV's supervisor mode does it: a
// VSphereCluster's control-plane endpoint is a VirtualMachineService of
// type LoadBalancer on 6443 selecting the cluster's control-plane VMs
// (lbapi gives it a VIP), and a VSphereMachine is one vm-operator
// VirtualMachine booted with the Machine's bootstrap data, which the VM
// service clones in vCenter. It talks to no vCenter itself.
//
// The embedded stack has no garbage collector, so deletion is explicit:
// each object deletes what it made and waits until it is gone.
package infrastructure
