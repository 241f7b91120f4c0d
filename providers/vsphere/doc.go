// Package vsphere is the room for everything that talks to vCenter: the
// session cache (session/), the VM service that turns VirtualMachine objects
// into VMs through govmomi (virtualmachine/), the shared property-collector
// watch (vmwatch/), the workload-network IPAM (ipam/), the inventory lookups
// (inventory/) and the VM class and image catalogs (catalog/). It imports our
// API types and govmomi; it knows nothing of TanzuKubernetesClusters or
// HAProxy.
package vsphere
