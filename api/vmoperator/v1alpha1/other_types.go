package v1alpha1

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VirtualMachineClassSpec is v1alpha1's class: the same fields as v1alpha2's.
type VirtualMachineClassSpec struct {
	// +optional
	ControllerName string `json:"controllerName,omitempty"`
	// +optional
	Hardware VirtualMachineClassHardware `json:"hardware,omitempty"`
	// +optional
	Policies VirtualMachineClassPolicies `json:"policies,omitempty"`
	// +optional
	Description string `json:"description,omitempty"`
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	ConfigSpec json.RawMessage `json:"configSpec,omitempty"`
}

// VirtualMachineClassHardware is a class's virtual hardware.
type VirtualMachineClassHardware struct {
	// +optional
	Cpus int64 `json:"cpus,omitempty"`
	// +optional
	Memory resource.Quantity `json:"memory,omitempty"`
	// +optional
	Devices VirtualDevices `json:"devices,omitempty,omitzero"`
	// +optional
	InstanceStorage InstanceStorage `json:"instanceStorage,omitempty,omitzero"`
}

// VirtualDevices are passthrough devices.
type VirtualDevices struct {
	// +optional
	VGPUDevices []VGPUDevice `json:"vgpuDevices,omitempty"`
	// +optional
	DynamicDirectPathIODevices []DynamicDirectPathIODevice `json:"dynamicDirectPathIODevices,omitempty"`
}

// VGPUDevice is a vGPU by profile.
type VGPUDevice struct {
	ProfileName string `json:"profileName"`
}

// DynamicDirectPathIODevice is a PCI device passed through.
type DynamicDirectPathIODevice struct {
	VendorID int64 `json:"vendorID"`
	DeviceID int64 `json:"deviceID"`
	// +optional
	CustomLabel string `json:"customLabel,omitempty"`
}

// InstanceStorage is host-local storage.
type InstanceStorage struct {
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
	// +optional
	Volumes []InstanceStorageVolume `json:"volumes,omitempty"`
}

// InstanceStorageVolume is one instance-storage disk.
type InstanceStorageVolume struct {
	Size resource.Quantity `json:"size"`
}

// VirtualMachineResourceSpec is an amount of CPU and memory.
type VirtualMachineResourceSpec struct {
	// +optional
	Cpu resource.Quantity `json:"cpu,omitempty"` //nolint:revive // vm-operator's field name
	// +optional
	Memory resource.Quantity `json:"memory,omitempty"`
}

// VirtualMachineClassResources are reservations and limits.
type VirtualMachineClassResources struct {
	// +optional
	Requests VirtualMachineResourceSpec `json:"requests,omitempty"`
	// +optional
	Limits VirtualMachineResourceSpec `json:"limits,omitempty"`
}

// VirtualMachineClassPolicies are a class's policies.
type VirtualMachineClassPolicies struct {
	// +optional
	Resources VirtualMachineClassResources `json:"resources,omitempty"`
}

// VirtualMachineClassStatus is empty in v1alpha1.
type VirtualMachineClassStatus struct{}

// VirtualMachineClass sizes VirtualMachines.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vmclass
// +kubebuilder:printcolumn:name="CPU",type="string",JSONPath=".spec.hardware.cpus"
// +kubebuilder:printcolumn:name="Memory",type="string",JSONPath=".spec.hardware.memory"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachineClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineClassSpec   `json:"spec,omitempty"`
	Status VirtualMachineClassStatus `json:"status,omitempty"`
}

// VirtualMachineClassList is a list of classes.
//
// +kubebuilder:object:root=true
type VirtualMachineClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachineClass `json:"items"`
}

// VirtualMachineServicePort is one port of a service.
type VirtualMachineServicePort struct {
	Name       string `json:"name"`
	Protocol   string `json:"protocol"`
	Port       int32  `json:"port"`
	TargetPort int32  `json:"targetPort"`
}

// VirtualMachineServiceSpec is v1alpha1's service: the same as v1alpha2's.
type VirtualMachineServiceSpec struct {
	// +kubebuilder:validation:Enum=ClusterIP;LoadBalancer;ExternalName
	Type string `json:"type"`
	// +optional
	Ports []VirtualMachineServicePort `json:"ports,omitempty"`
	// +optional
	Selector map[string]string `json:"selector,omitempty"`
	// +optional
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
	// +optional
	LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges,omitempty"`
	// +optional
	ClusterIP string `json:"clusterIp,omitempty"`
	// +optional
	ExternalName string `json:"externalName,omitempty"`
}

// LoadBalancerIngress is a VIP.
type LoadBalancerIngress struct {
	// +optional
	IP string `json:"ip,omitempty"`
	// +optional
	Hostname string `json:"hostname,omitempty"`
}

// LoadBalancerStatus holds the VIPs.
type LoadBalancerStatus struct {
	// +optional
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// VirtualMachineServiceStatus is v1alpha1's service status.
type VirtualMachineServiceStatus struct {
	// +optional
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
}

// VirtualMachineService exposes the VMs its selector matches.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vmservice
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachineService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineServiceSpec   `json:"spec,omitempty"`
	Status VirtualMachineServiceStatus `json:"status,omitempty"`
}

// VirtualMachineServiceList is a list of services.
//
// +kubebuilder:object:root=true
type VirtualMachineServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachineService `json:"items"`
}

// VirtualMachineImageProductInfo describes the product in an image.
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

// VirtualMachineImageOSInfo describes an image's guest OS.
type VirtualMachineImageOSInfo struct {
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	Type string `json:"type,omitempty"`
}

// ContentProviderReference refers to an image's content.
type ContentProviderReference struct {
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// VirtualMachineImageSpec is v1alpha1's image description.
type VirtualMachineImageSpec struct {
	// Type: OVF or VM.
	// +optional
	Type string `json:"type,omitempty"`
	// +optional
	ImageSourceType string `json:"imageSourceType,omitempty"`
	// +optional
	ImageID string `json:"imageID,omitempty"`
	// +optional
	ProviderRef ContentProviderReference `json:"providerRef,omitempty,omitzero"`
	// +optional
	ProductInfo VirtualMachineImageProductInfo `json:"productInfo,omitempty"`
	// +optional
	OSInfo VirtualMachineImageOSInfo `json:"osInfo,omitempty"`
}

// VirtualMachineImageStatus is v1alpha1's image status.
type VirtualMachineImageStatus struct {
	// +optional
	ImageName string `json:"imageName,omitempty"`
	// +optional
	ContentVersion string `json:"contentVersion,omitempty"`
	// +optional
	ImageSupported *bool `json:"imageSupported,omitempty"`
	// +optional
	Conditions []Condition `json:"conditions,omitempty"`
}

// VirtualMachineImage is an image VMs in its namespace may be cloned from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vmi;vmimage
// +kubebuilder:printcolumn:name="Display-Name",type="string",JSONPath=".status.imageName"
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="Image-Version",type="string",JSONPath=".spec.productInfo.version"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachineImage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineImageSpec   `json:"spec,omitempty"`
	Status VirtualMachineImageStatus `json:"status,omitempty"`
}

// VirtualMachineImageList is a list of images.
//
// +kubebuilder:object:root=true
type VirtualMachineImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachineImage `json:"items"`
}

// ClusterVirtualMachineImage is an image VMs in every namespace may be cloned from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cvmi;cvmimage;clustervmimage;clustervmi
// +kubebuilder:printcolumn:name="Display-Name",type="string",JSONPath=".status.imageName"
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="Image-Version",type="string",JSONPath=".spec.productInfo.version"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ClusterVirtualMachineImage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineImageSpec   `json:"spec,omitempty"`
	Status VirtualMachineImageStatus `json:"status,omitempty"`
}

// ClusterVirtualMachineImageList is a list of cluster images.
//
// +kubebuilder:object:root=true
type ClusterVirtualMachineImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterVirtualMachineImage `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VirtualMachineClass{}, &VirtualMachineClassList{},
		&VirtualMachineService{}, &VirtualMachineServiceList{},
		&VirtualMachineImage{}, &VirtualMachineImageList{},
		&ClusterVirtualMachineImage{}, &ClusterVirtualMachineImageList{})
}
