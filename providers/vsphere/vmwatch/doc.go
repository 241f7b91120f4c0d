// Package vmwatch keeps the state of every VM under the supervisor's folder
// current through two PropertyCollectors long polling WaitForUpdatesEx: one
// follows a ContainerView's membership, the other a few state properties
// (power, host, guest addresses, config.changeVersion) of the members
// through a ListView. A VM is read in full (one call per batch) when it
// joins, and its config again when its changeVersion moves. Reconcilers
// read VM state from it instead of asking vCenter per VM, and it wakes them
// when a VM they own changes, so an idle supervisor makes no per-VM calls
// at all. VMs are keyed by instance UUID, which the VM service sets to the
// owning object's UID.
//
// Membership has its own collector so that it never waits behind the state
// poll: a collector's cost per change grows with what its filters cover
// (vcsim re-reads every covered object for every change in its inventory),
// and with one collector a burst of clones kept new VMs out of the cache
// for as long as the burst lasted.
//
// It only reads: it must not change VMs in vCenter, and it knows nothing of
// Kubernetes objects (owners are told by instance UUID through a callback).
// The membership and cache bookkeeping is pure and unit tested; following
// a vCenter is tested on vcsim (vcsim_test.go and the integration tests).
package vmwatch
