// Package v1alpha1 holds the vmoperator.vmware.com/v1alpha1 kinds vSphere 7's
// VM service served: VirtualMachine (networkInterfaces, vmMetadata with its
// transports, powerState poweredOn, status.vmIp), VirtualMachineService,
// VirtualMachineClass, VirtualMachineImage and ClusterVirtualMachineImage,
// with vm-operator's field names. v1alpha2 is the hub and the storage
// version: every object converts through it without loss, the way
// vm-operator converts (its api/v1alpha1 conversion), and what one version
// cannot say rides in an annotation while the fields both say agree.
//
// +kubebuilder:object:generate=true
// +groupName=vmoperator.vmware.com
package v1alpha1
