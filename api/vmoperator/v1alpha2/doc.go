// Package v1alpha2 holds the vmoperator.vmware.com/v1alpha2 kinds the
// supervisor serves: VirtualMachine, VirtualMachineClass, VirtualMachineImage,
// ClusterVirtualMachineImage and VirtualMachineService. Group, version and JSON
// field names follow vm-operator's published v1alpha2 API so manifests and
// clients written for vSphere (Cluster API Provider vSphere among them) work
// unchanged; the vm-operator API module itself does not build against our
// controller-runtime, so the types are declared here. Only fields the
// supervisor acts on or reports are declared.
//
// +kubebuilder:object:generate=true
// +groupName=vmoperator.vmware.com
package v1alpha2
