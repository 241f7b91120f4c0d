package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VirtualMachineServiceType is the type of a VirtualMachineService.
// +kubebuilder:validation:Enum=ClusterIP;LoadBalancer;ExternalName
type VirtualMachineServiceType string

const (
	VirtualMachineServiceTypeClusterIP    VirtualMachineServiceType = "ClusterIP"
	VirtualMachineServiceTypeLoadBalancer VirtualMachineServiceType = "LoadBalancer"
	VirtualMachineServiceTypeExternalName VirtualMachineServiceType = "ExternalName"
)

// VirtualMachineServicePort is one port of a VirtualMachineService.
type VirtualMachineServicePort struct {
	// Name of the port.
	Name string `json:"name"`
	// Protocol: TCP or UDP.
	Protocol string `json:"protocol"`
	// Port the service listens on.
	Port int32 `json:"port"`
	// TargetPort on the selected VMs.
	TargetPort int32 `json:"targetPort"`
}

// VirtualMachineServiceSpec is the desired state of a VirtualMachineService.
type VirtualMachineServiceSpec struct {
	// Type of the service.
	Type VirtualMachineServiceType `json:"type"`
	// Ports of the service.
	// +optional
	Ports []VirtualMachineServicePort `json:"ports,omitempty"`
	// Selector matches VirtualMachines by label; their IPs are the backends.
	// +optional
	Selector map[string]string `json:"selector,omitempty"`
	// LoadBalancerIP asks for a specific VIP.
	// +optional
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
	// LoadBalancerSourceRanges restricts client addresses.
	// +optional
	LoadBalancerSourceRanges []string `json:"loadBalancerSourceRanges,omitempty"`
	// ClusterIP of the service.
	// +optional
	ClusterIP string `json:"clusterIp,omitempty"`
	// ExternalName for ExternalName services.
	// +optional
	ExternalName string `json:"externalName,omitempty"`
}

// VirtualMachineServiceStatus is the observed state of a VirtualMachineService.
type VirtualMachineServiceStatus struct {
	// LoadBalancer holds the VIP once it serves traffic.
	// +optional
	LoadBalancer corev1.LoadBalancerStatus `json:"loadBalancer,omitempty"`
	// Conditions say what is wrong when the VIP is not served.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VirtualMachineService exposes the VirtualMachines its selector matches.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=vmservice
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".spec.type"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachineService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineServiceSpec   `json:"spec,omitempty"`
	Status VirtualMachineServiceStatus `json:"status,omitempty"`
}

// VirtualMachineServiceList is a list of VirtualMachineServices.
//
// +kubebuilder:object:root=true
type VirtualMachineServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachineService `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VirtualMachineService{}, &VirtualMachineServiceList{})
}
