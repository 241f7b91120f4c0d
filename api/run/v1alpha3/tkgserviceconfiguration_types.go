package v1alpha3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TkgServiceConfigurationName is the name of the one configuration the
// supervisor reads.
const TkgServiceConfigurationName = "tkg-service-configuration"

// TkgServiceConfigurationSpec holds defaults for new clusters.
type TkgServiceConfigurationSpec struct {
	// DefaultCNI is the CNI of clusters that name none.
	// +kubebuilder:validation:Enum=antrea;calico
	// +kubebuilder:default=antrea
	// +optional
	DefaultCNI string `json:"defaultCNI,omitempty"`
	// Proxy is the default proxy of new clusters.
	// +optional
	Proxy *ProxyConfiguration `json:"proxy,omitempty"`
	// Trust is the default trust of new clusters.
	// +optional
	Trust *TrustConfiguration `json:"trust,omitempty"`
	// DefaultNodeDrainTimeout of node pools that set none; 0 waits forever.
	// +optional
	DefaultNodeDrainTimeout *metav1.Duration `json:"defaultNodeDrainTimeout,omitempty"`
}

// TkgServiceConfiguration holds the supervisor-wide defaults of
// TanzuKubernetesClusters; the supervisor reads the one named
// tkg-service-configuration.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=tkgserviceconfigurations,scope=Cluster
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Default CNI",type=string,JSONPath=".spec.defaultCNI"
type TkgServiceConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TkgServiceConfigurationSpec `json:"spec,omitempty"`
}

// TkgServiceConfigurationList is a list of TkgServiceConfigurations.
//
// +kubebuilder:object:root=true
type TkgServiceConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TkgServiceConfiguration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TkgServiceConfiguration{}, &TkgServiceConfigurationList{})
}

// Hub marks v1alpha3, the storage version, as the conversion hub of
// TkgServiceConfigurations.
func (*TkgServiceConfiguration) Hub() {}
