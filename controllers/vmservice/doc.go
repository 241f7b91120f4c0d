// Package vmservice is the admission of the VM service's kinds
// (vmoperator.vmware.com): it defaults and validates VirtualMachines and
// validates VirtualMachineClasses, refusing, with the field path, what the
// VM service (providers/vsphere/virtualmachine) would otherwise accept and
// not act on, and it serves the conversion of every served version through
// v1alpha2, the hub. It makes nothing in vCenter and owns no objects.
package vmservice
