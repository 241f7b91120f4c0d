package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types of a TanzuKubernetesRelease.
const (
	// ReleaseCompatibleCondition says the supervisor can run the release;
	// version hints never resolve to an incompatible one.
	ReleaseCompatibleCondition = "Compatible"
	// ReleaseUpdatesAvailableCondition lists newer patch releases.
	ReleaseUpdatesAvailableCondition = "UpdatesAvailable"
	// ReleaseUpgradeAvailableCondition lists newer minor releases.
	ReleaseUpgradeAvailableCondition = "UpgradeAvailable"
)

// LabelIncompatible on a release marks it incompatible, like a False
// Compatible condition.
const LabelIncompatible = "incompatible"

// ContainerImage is an image the release's nodes run.
type ContainerImage struct {
	// Repository of the image.
	// +optional
	Repository string `json:"repository,omitempty"`
	// Name of the image.
	Name string `json:"name"`
	// Tag of the image.
	// +optional
	Tag string `json:"tag,omitempty"`
}

// TanzuKubernetesReleaseSpec is one Kubernetes release and its node image.
type TanzuKubernetesReleaseSpec struct {
	// Version is the full version, e.g. v1.20.7+vmware.1-tkg.1.7fb9067; the
	// object's name is the version with "+" spelt "---".
	// +kubebuilder:validation:MinLength=1
	Version string `json:"version"`
	// KubernetesVersion is the Kubernetes build, e.g. v1.20.7+vmware.1.
	// +optional
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Repository is where the images come from.
	// +optional
	Repository string `json:"repository,omitempty"`
	// Images are the release's container images.
	// +optional
	Images []ContainerImage `json:"images,omitempty"`
	// NodeImageRef names the node template: the VirtualMachineImage of the
	// content library item (OVF) nodes are cloned from.
	// +optional
	NodeImageRef *corev1.ObjectReference `json:"nodeImageRef,omitempty"`
}

// TanzuKubernetesReleaseStatus is the observed state of a release.
type TanzuKubernetesReleaseStatus struct {
	// Conditions: Compatible, UpdatesAvailable, UpgradeAvailable.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
}

// TanzuKubernetesRelease is a Kubernetes version clusters can run.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=tanzukubernetesreleases,scope=Cluster,shortName=tkr
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=".spec.version"
// +kubebuilder:printcolumn:name="Compatible",type=string,JSONPath=".status.conditions[?(@.type=='Compatible')].status"
// +kubebuilder:printcolumn:name="Created",type=date,JSONPath=".metadata.creationTimestamp"
type TanzuKubernetesRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TanzuKubernetesReleaseSpec   `json:"spec,omitempty"`
	Status TanzuKubernetesReleaseStatus `json:"status,omitempty"`
}

// TanzuKubernetesReleaseList is a list of TanzuKubernetesReleases.
//
// +kubebuilder:object:root=true
type TanzuKubernetesReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TanzuKubernetesRelease `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TanzuKubernetesRelease{}, &TanzuKubernetesReleaseList{})
}
