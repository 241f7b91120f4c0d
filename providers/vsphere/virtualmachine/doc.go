// Package virtualmachine is the VM service: it turns VirtualMachine objects
// (vmoperator.vmware.com) into VMs in vCenter and back. A VM is cloned from
// its image with the class's CPU, memory, reservations and configSpec, a
// NIC per interface on its network's portgroup, each with a static address
// from the network's range or the spec's (network.go), a thin disk per
// volume (its PersistentVolumeClaim's size, on its storage class's
// datastore; volumes.go), and its bootstrap: cloud-init data in guestinfo
// (raw, or rendered from an inline cloudConfig), guest customization for
// linuxPrep and sysprep, vApp properties set before the first boot
// (guestconfig.go). Once it exists its boot disk is grown, its hardware
// upgraded, its power changed and restarted the way the spec's modes say
// (existing.go), and its readiness probe decides Ready (readiness.go). It
// is found again by instance UUID (the object's UID) so a restart or a
// second reconcile never clones twice.
//
// The reconciler decides (virtualmachine_controller.go, create.go,
// existing.go, attach.go) and reports through conditions set by pure
// functions (status.go); vCenter is behind the VCenter interface
// (vcenter.go), which unit tests replace with an in-memory fake and which
// the integration tests run on vcsim. Status is written once per reconcile
// by Cluster API's patch helper; the only other write is the clone claim.
//
// It owns VirtualMachine status and finalizer, the VMs whose instance UUID
// is a VirtualMachine's UID, and (through ipam) their addresses. It must not
// touch VirtualMachineServices, Cluster API objects or HAProxy, nor VMs in
// vCenter that no VirtualMachine owns (image-cache VMs are the inventory's).
package virtualmachine
