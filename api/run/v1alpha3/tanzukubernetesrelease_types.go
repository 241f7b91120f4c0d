package v1alpha3

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types of a TanzuKubernetesRelease (tanzu-framework's v1alpha3).
const (
	// ReleaseReadyCondition says a node image of the release is in the
	// content library.
	ReleaseReadyCondition = "Ready"
	// ReleaseCompatibleCondition says the supervisor can run the release;
	// version hints never resolve to an incompatible one.
	ReleaseCompatibleCondition = "Compatible"
	// ReleaseValidCondition says the release's metadata could be read.
	ReleaseValidCondition = "Valid"
	// ReleaseUpdatesAvailableCondition lists the releases a cluster on
	// this one may move to.
	ReleaseUpdatesAvailableCondition = "UpdatesAvailable"
)

// NodeImageNotFoundReason: no node image of the release is (yet) in the
// content library, so the release is not Ready.
const NodeImageNotFoundReason = "NodeImageNotFound"

// Labels of a TanzuKubernetesRelease.
const (
	// LabelIncompatible marks it incompatible, like a False Compatible
	// condition.
	LabelIncompatible = "incompatible"
	// LabelDeactivated and LabelInvalid hide it from resolution, as on
	// vSphere.
	LabelDeactivated = "deactivated"
	LabelInvalid     = "invalid"
)

// TanzuKubernetesReleaseSpec is one Kubernetes release: its version, the
// Kubernetes build it ships and the node images (OS images) of it.
type TanzuKubernetesReleaseSpec struct {
	// Version is the fully qualified version of the release, e.g.
	// v1.30.8+vmware.1-fips-vkr.1; the object's name is the version with
	// "+" spelt "---".
	// +kubebuilder:validation:MinLength=1
	Version string `json:"version"`
	// Kubernetes is the Kubernetes build the release ships.
	Kubernetes KubernetesSpec `json:"kubernetes"`
	// OSImages name the release's node images, the default first. On this
	// supervisor they are the ClusterVirtualMachineImages of the content
	// library items nodes are cloned from.
	// +optional
	OSImages []corev1.LocalObjectReference `json:"osImages,omitempty"`
	// BootstrapPackages name the packages installed into every cluster of
	// the release.
	// +optional
	BootstrapPackages []corev1.LocalObjectReference `json:"bootstrapPackages,omitempty"`
}

// KubernetesSpec is the Kubernetes build of a release.
type KubernetesSpec struct {
	// Version is the Kubernetes build, e.g. v1.30.8+vmware.1-fips.
	// +kubebuilder:validation:MinLength=1
	Version string `json:"version"`
	// ImageRepository is the registry the images come from.
	// +optional
	ImageRepository string `json:"imageRepository,omitempty"`
	// Etcd is the etcd image.
	// +optional
	Etcd *ContainerImageInfo `json:"etcd,omitempty"`
	// Pause is the pause image.
	// +optional
	Pause *ContainerImageInfo `json:"pause,omitempty"`
	// CoreDNS is the CoreDNS image.
	// +optional
	CoreDNS *ContainerImageInfo `json:"coredns,omitempty"`
	// KubeVIP is the kube-vip image.
	// +optional
	KubeVIP *ContainerImageInfo `json:"kube-vip,omitempty"`
}

// ContainerImageInfo is a component image not built by the Kubernetes
// release process.
type ContainerImageInfo struct {
	// ImageRepository of the image; the release's when empty.
	// +optional
	ImageRepository string `json:"imageRepository,omitempty"`
	// ImageTag of the image.
	// +optional
	ImageTag string `json:"imageTag,omitempty"`
}

// TanzuKubernetesReleaseStatus is the observed state of a release.
type TanzuKubernetesReleaseStatus struct {
	// Conditions: Ready, Compatible, Valid, UpdatesAvailable.
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
}

// TanzuKubernetesRelease is a Kubernetes release clusters can run, derived
// from the node images of the content library.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=tanzukubernetesreleases,scope=Cluster,shortName=tkr
// +kubebuilder:storageversion
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=".spec.version"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
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

// Hub marks v1alpha3, the storage version (as tanzu-framework's), as the
// conversion hub of TanzuKubernetesReleases.
func (*TanzuKubernetesRelease) Hub() {}
