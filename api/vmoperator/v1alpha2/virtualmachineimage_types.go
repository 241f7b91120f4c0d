package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Image types, as vm-operator reports them in status.type.
const (
	// ImageTypeOVF is a content-library OVF item.
	ImageTypeOVF = "OVF"
	// ImageTypeVM is a VM template in the vCenter inventory.
	ImageTypeVM = "VM"
)

// Condition types an image reports.
const (
	// VirtualMachineImageProviderReadyCondition says whether the image's
	// content is available in vCenter.
	VirtualMachineImageProviderReadyCondition = "VirtualMachineImageProviderReady"
)

// Reasons of VirtualMachineImageProviderReadyCondition.
const (
	// VirtualMachineImageAvailableReason: the image's library item is in vCenter.
	VirtualMachineImageAvailableReason = "Available"
)

// VirtualMachineImageSpec is the desired state of an image.
type VirtualMachineImageSpec struct {
	// ProviderRef refers to the object that provides the image content.
	// +optional
	ProviderRef *LocalObjectRef `json:"providerRef,omitempty"`
}

// VirtualMachineImageProductInfo describes the product in the image.
type VirtualMachineImageProductInfo struct {
	// +optional
	Product string `json:"product,omitempty"`
	// +optional
	Vendor string `json:"vendor,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	FullVersion string `json:"fullVersion,omitempty"`
}

// VirtualMachineImageOSInfo describes the guest OS in the image.
type VirtualMachineImageOSInfo struct {
	// +optional
	ID string `json:"id,omitempty"`
	// +optional
	Type string `json:"type,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
}

// VirtualMachineImageStatus is the observed state of an image.
type VirtualMachineImageStatus struct {
	// Name is the image's display name in vCenter (the library item name or
	// the template's inventory path).
	// +optional
	Name string `json:"name,omitempty"`
	// Type is OVF for a content-library item or VM for an inventory template.
	// +optional
	Type string `json:"type,omitempty"`
	// ProviderItemID is the content-library item ID (OVF) or the template's
	// managed object ID (VM).
	// +optional
	ProviderItemID string `json:"providerItemID,omitempty"`
	// ProviderContentVersion is the library item's content version.
	// +optional
	ProviderContentVersion string `json:"providerContentVersion,omitempty"`
	// ProductInfo describes the product in the image.
	// +optional
	ProductInfo VirtualMachineImageProductInfo `json:"productInfo,omitempty"`
	// OSInfo describes the guest OS.
	// +optional
	OSInfo VirtualMachineImageOSInfo `json:"osInfo,omitempty"`
	// Conditions say whether the image can be deployed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VirtualMachineImage is an image VMs in its namespace may be cloned from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=vmi;vmimage
// +kubebuilder:printcolumn:name="Display-Name",type="string",JSONPath=".status.name"
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".status.type"
// +kubebuilder:printcolumn:name="Image-Version",type="string",JSONPath=".status.productInfo.version"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachineImage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineImageSpec   `json:"spec,omitempty"`
	Status VirtualMachineImageStatus `json:"status,omitempty"`
}

// VirtualMachineImageList is a list of VirtualMachineImages.
//
// +kubebuilder:object:root=true
type VirtualMachineImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachineImage `json:"items"`
}

// ClusterVirtualMachineImage is an image VMs in every namespace may be cloned
// from; the supervisor publishes one per item of its content library.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:scope=Cluster,shortName=cvmi;cvmimage;clustervmimage;clustervmi
// +kubebuilder:printcolumn:name="Display-Name",type="string",JSONPath=".status.name"
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".status.type"
// +kubebuilder:printcolumn:name="Image-Version",type="string",JSONPath=".status.productInfo.version"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ClusterVirtualMachineImage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineImageSpec   `json:"spec,omitempty"`
	Status VirtualMachineImageStatus `json:"status,omitempty"`
}

// ClusterVirtualMachineImageList is a list of ClusterVirtualMachineImages.
//
// +kubebuilder:object:root=true
type ClusterVirtualMachineImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterVirtualMachineImage `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VirtualMachineImage{}, &VirtualMachineImageList{},
		&ClusterVirtualMachineImage{}, &ClusterVirtualMachineImageList{})
}
