package v1alpha2

// v1alpha2 is the hub every other served version converts through.

// Hub marks VirtualMachine as the conversion hub.
func (*VirtualMachine) Hub() {}

// Hub marks VirtualMachineClass as the conversion hub.
func (*VirtualMachineClass) Hub() {}

// Hub marks VirtualMachineService as the conversion hub.
func (*VirtualMachineService) Hub() {}

// Hub marks VirtualMachineImage as the conversion hub.
func (*VirtualMachineImage) Hub() {}

// Hub marks ClusterVirtualMachineImage as the conversion hub.
func (*ClusterVirtualMachineImage) Hub() {}

// ConfigMapTransportAnnotation marks a VM whose bootstrap object (named
// as a Secret in v1alpha2) is a ConfigMap: v1alpha1's vmMetadata.configMapName.
// The value is vm-operator's.
const ConfigMapTransportAnnotation = "vmoperator.vmware.com/v1a1-configmap-md-transport"
