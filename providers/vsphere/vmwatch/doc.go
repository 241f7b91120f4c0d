// Package vmwatch keeps the state of every VM under the supervisor's folder
// current through one PropertyCollector (a filter on a ContainerView's
// membership, and one on the VMs through a ListView), long polling
// WaitForUpdatesEx. Reconcilers read VM state from it instead of
// asking vCenter per VM, and it wakes them when a VM they own changes, so an
// idle supervisor makes no per-VM calls at all. VMs are keyed by instance
// UUID, which the VM service sets to the owning object's UID.
//
// It only reads: it must not change VMs in vCenter, and it knows nothing of
// Kubernetes objects (owners are told by instance UUID through a callback).
// The membership bookkeeping (membership.diff) is pure and unit tested;
// following a real vCenter is tested on vcsim by the integration tests.
package vmwatch
