package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderHAProxy is the only provider: an HAProxy appliance programmed
// through its Data Plane API (vCenter's "HA_PROXY").
const ProviderHAProxy = "HA_PROXY"

// DataPlaneAPIServer is one Data Plane API endpoint of the appliance.
type DataPlaneAPIServer struct {
	// Host name or address.
	// +kubebuilder:validation:MinLength=1
	Host string `json:"host"`
	// Port of the Data Plane API (5556 on the VMware HAProxy appliance).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
}

// SecretReference names a Secret holding "username" and "password".
type SecretReference struct {
	// Namespace of the Secret.
	Namespace string `json:"namespace"`
	// Name of the Secret.
	Name string `json:"name"`
}

// AddressRange is a block of VIPs: a CIDR, or a start address and a count
// (the vCenter enable spec's {address, count}).
type AddressRange struct {
	// CIDR of the block, e.g. 10.0.0.0/28.
	// +optional
	CIDR string `json:"cidr,omitempty"`
	// Address is the first VIP of a start-count range.
	// +optional
	Address string `json:"address,omitempty"`
	// Count is the number of VIPs of a start-count range.
	// +optional
	Count int32 `json:"count,omitempty"`
}

// HAProxyConfig says how to reach the appliance's Data Plane API.
type HAProxyConfig struct {
	// Servers of the Data Plane API; tried in order.
	// +kubebuilder:validation:MinItems=1
	Servers []DataPlaneAPIServer `json:"servers"`
	// CredentialsSecretRef names the Secret with the basic-auth user.
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`
	// CertificateAuthorityChain is the PEM bundle the Data Plane API's
	// certificate must chain to.
	// +optional
	CertificateAuthorityChain string `json:"certificateAuthorityChain,omitempty"`
	// Insecure skips certificate verification. Only by explicit choice.
	// +optional
	Insecure bool `json:"insecure,omitempty"`
}

// LoadBalancerSpec describes one load balancer.
type LoadBalancerSpec struct {
	// Provider of the load balancer.
	// +kubebuilder:validation:Enum=HA_PROXY
	Provider string `json:"provider"`
	// HAProxy configures the HA_PROXY provider.
	HAProxy HAProxyConfig `json:"haProxy"`
	// AddressRanges are the VIPs Services get.
	// +kubebuilder:validation:MinItems=1
	AddressRanges []AddressRange `json:"addressRanges"`
}

// LoadBalancerStatus is what lbapi knows of the load balancer.
type LoadBalancerStatus struct {
	// APIVersion of the Data Plane API that answered: v2 or v3.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// VIPsInUse is the number of VIPs allocated to Services.
	// +optional
	VIPsInUse int32 `json:"vipsInUse"`
	// VIPsFree is the number of VIPs left.
	// +optional
	VIPsFree int32 `json:"vipsFree"`
	// LastError is the last error talking to the Data Plane API.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// ObservedGeneration is the generation of the spec the last successful
	// sync served.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: DataPlaneAPIReachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// LoadBalancer is an HAProxy appliance serving Service VIPs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=lb
// +kubebuilder:printcolumn:name="Provider",type="string",JSONPath=".spec.provider"
// +kubebuilder:printcolumn:name="API",type="string",JSONPath=".status.apiVersion"
// +kubebuilder:printcolumn:name="In-Use",type="integer",JSONPath=".status.vipsInUse"
// +kubebuilder:printcolumn:name="Free",type="integer",JSONPath=".status.vipsFree"
// +kubebuilder:printcolumn:name="Reachable",type="string",JSONPath=".status.conditions[?(@.type=='DataPlaneAPIReachable')].status"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type LoadBalancer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   LoadBalancerSpec   `json:"spec,omitempty"`
	Status LoadBalancerStatus `json:"status,omitempty"`
}

// LoadBalancerList is a list of LoadBalancers.
//
// +kubebuilder:object:root=true
type LoadBalancerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LoadBalancer `json:"items"`
}

// GetConditions returns the LoadBalancer's conditions (Cluster API's
// conditions.Getter, so the patch helper can merge owned conditions).
func (lb *LoadBalancer) GetConditions() []metav1.Condition { return lb.Status.Conditions }

// SetConditions replaces the LoadBalancer's conditions (conditions.Setter).
func (lb *LoadBalancer) SetConditions(c []metav1.Condition) { lb.Status.Conditions = c }

func init() {
	SchemeBuilder.Register(&LoadBalancer{}, &LoadBalancerList{})
}
