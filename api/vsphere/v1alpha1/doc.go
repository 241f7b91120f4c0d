// Package v1alpha1 holds the supervisor's own vSphere kinds in the
// vsphere.opensupervisor.io group: WorkloadNetwork, a vSphere portgroup with
// the address range VMs on it get static IPv4 addresses from, and
// IPAddressAllocation, the record of one address handed out, so allocations
// live in the Kubernetes API and survive restarts.
//
// +kubebuilder:object:generate=true
// +groupName=vsphere.opensupervisor.io
package v1alpha1
