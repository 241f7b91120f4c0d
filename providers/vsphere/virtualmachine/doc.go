// Package virtualmachine is the VM service: it turns VirtualMachine objects
// (vmoperator.vmware.com) into VMs in vCenter and back. A VM is cloned from
// its image with the class's CPU, memory and reservations, a NIC on its
// network's portgroup, a static address from the network's range, a thin
// disk per volume (its PersistentVolumeClaim's size, on its storage class's
// datastore; volumes.go), and cloud-init data in guestinfo; it is found
// again by instance UUID (the object's UID) so a restart or a second
// reconcile never clones twice.
package virtualmachine
