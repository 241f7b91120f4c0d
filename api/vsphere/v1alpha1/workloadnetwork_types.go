package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// WorkloadNetworkSpec describes a vSphere network VMs attach to, and the
// addresses they get on it, as the Workload Management enable wizard asks for
// them (portgroup, IP ranges, gateway, subnet, DNS servers).
type WorkloadNetworkSpec struct {
	// PortGroup is the name of the distributed portgroup in vCenter.
	// +kubebuilder:validation:MinLength=1
	PortGroup string `json:"portGroup"`

	// AddressRanges are the addresses VMs may get: CIDRs ("10.0.0.0/24") or
	// inclusive ranges ("10.0.0.10-10.0.0.200").
	// +kubebuilder:validation:MinItems=1
	AddressRanges []string `json:"addressRanges"`

	// PrefixLength is the subnet's prefix length, e.g. 24.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32
	PrefixLength int32 `json:"prefixLength"`

	// Gateway is the subnet's default gateway.
	// +optional
	Gateway string `json:"gateway,omitempty"`

	// Nameservers are the DNS servers VMs use.
	// +optional
	Nameservers []string `json:"nameservers,omitempty"`
}

// WorkloadNetworkStatus is the observed state of a WorkloadNetwork.
type WorkloadNetworkStatus struct {
	// Conditions say whether the network is usable.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WorkloadNetwork is a vSphere portgroup and the address range of its VMs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=wn
// +kubebuilder:printcolumn:name="PortGroup",type="string",JSONPath=".spec.portGroup"
// +kubebuilder:printcolumn:name="Ranges",type="string",JSONPath=".spec.addressRanges"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type WorkloadNetwork struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorkloadNetworkSpec   `json:"spec,omitempty"`
	Status WorkloadNetworkStatus `json:"status,omitempty"`
}

// WorkloadNetworkList is a list of WorkloadNetworks.
//
// +kubebuilder:object:root=true
type WorkloadNetworkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkloadNetwork `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WorkloadNetwork{}, &WorkloadNetworkList{})
}
