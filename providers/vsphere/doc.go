// Package vsphere is the room for everything that talks to vCenter: the
// session cache (session/), the VM service that turns VirtualMachine objects
// into VMs through govmomi (virtualmachine/), the shared property-collector
// watch (vmwatch/), the workload-network IPAM (ipam/), the inventory lookups
// (inventory/), the image catalog that publishes the content library
// (catalog/), and the Cluster API infrastructure provider that turns
// VSphereClusters and VSphereMachines into VirtualMachines and
// VirtualMachineServices (infrastructure/). Setup, here, logs in and
// registers the VM service and the catalog on a manager.
//
// It imports our API types, govmomi and Cluster API's utilities; it knows
// nothing of TanzuKubernetesClusters and must not program HAProxy (lbapi
// serves VirtualMachineServices).
package vsphere
