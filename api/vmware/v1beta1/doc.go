// Package v1beta1 holds the Cluster API infrastructure types of
// supervisor-style clusters, in CAPV's `vmware.infrastructure.cluster.x-k8s.io`
// group: VSphereCluster (the control-plane endpoint, a VirtualMachineService
// VIP), VSphereMachine (one vm-operator VirtualMachine) and
// VSphereMachineTemplate. They follow Cluster API's v1beta2 contract:
// spec.controlPlaneEndpoint, spec.providerID, status.initialization.provisioned,
// status.addresses.
//
// +kubebuilder:object:generate=true
// +groupName=vmware.infrastructure.cluster.x-k8s.io
package v1beta1
