package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels on an IPAddressAllocation that let its owner find it again.
const (
	// AllocationOwnerUIDLabel carries the UID of the object holding the address.
	AllocationOwnerUIDLabel = "vsphere.opensupervisor.io/owner-uid"
	// AllocationNetworkLabel carries the WorkloadNetwork name.
	AllocationNetworkLabel = "vsphere.opensupervisor.io/network"
)

// IPAddressAllocationOwner identifies the object an address is allocated to.
type IPAddressAllocationOwner struct {
	// Kind of the owner, e.g. VirtualMachine.
	Kind string `json:"kind"`
	// Namespace of the owner.
	Namespace string `json:"namespace"`
	// Name of the owner.
	Name string `json:"name"`
	// UID of the owner.
	UID string `json:"uid"`
}

// IPAddressAllocationSpec records one address handed out.
type IPAddressAllocationSpec struct {
	// Network is the WorkloadNetwork the address belongs to.
	Network string `json:"network"`
	// Address is the IPv4 address.
	Address string `json:"address"`
	// Owner is the object the address is allocated to.
	Owner IPAddressAllocationOwner `json:"owner"`
}

// IPAddressAllocation records that an address of a WorkloadNetwork is in use.
// Its name is "<network>.<address>", so the API server's uniqueness of names
// is what keeps one address from being handed out twice, even to two
// supervisors racing.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ipalloc
// +kubebuilder:printcolumn:name="Network",type="string",JSONPath=".spec.network"
// +kubebuilder:printcolumn:name="Address",type="string",JSONPath=".spec.address"
// +kubebuilder:printcolumn:name="Owner",type="string",JSONPath=".spec.owner.name"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type IPAddressAllocation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPAddressAllocationSpec `json:"spec,omitempty"`
}

// IPAddressAllocationList is a list of IPAddressAllocations.
//
// +kubebuilder:object:root=true
type IPAddressAllocationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAddressAllocation `json:"items"`
}

func init() {
	SchemeBuilder.Register(&IPAddressAllocation{}, &IPAddressAllocationList{})
}
