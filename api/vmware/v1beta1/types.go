package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// Labels the provider puts on the VirtualMachines of a cluster (CAPV's), so
// the control-plane VirtualMachineService can select them.
const (
	ClusterNameLabel = "capv.vmware.com/cluster.name"
	ClusterRoleLabel = "capv.vmware.com/cluster.role"
	RoleControlPlane = "controlplane"
	RoleNode         = "node"
)

// Condition types.
const (
	// ControlPlaneEndpointReady: the VIP of the control plane is served.
	ControlPlaneEndpointReady = "ControlPlaneEndpointReady"
	// VirtualMachineProvisioned: the machine's VM is powered on with an IP.
	VirtualMachineProvisioned = "VirtualMachineProvisioned"
)

// Reasons of ControlPlaneEndpointReady.
const (
	// WaitingForVIPReason: the load balancer has not served the VIP yet.
	WaitingForVIPReason = "WaitingForVIP"
	// VIPServingReason: the VIP serves; the message is host:port.
	VIPServingReason = "VIPServing"
)

// Reasons of VirtualMachineProvisioned.
const (
	// WaitingForClusterInfrastructureReason: the cluster has no control-plane endpoint yet.
	WaitingForClusterInfrastructureReason = "WaitingForClusterInfrastructure"
	// WaitingForBootstrapDataReason: the Machine's bootstrap data is not there yet.
	WaitingForBootstrapDataReason = "WaitingForBootstrapData"
	// WaitingForVirtualMachineReason: the VirtualMachine is not cloned,
	// powered on or addressed yet; the message says why.
	WaitingForVirtualMachineReason = "WaitingForVirtualMachine"
	// PoweredOnReason: the VM is powered on; the message is its IP.
	PoweredOnReason = "PoweredOn"
	// DeletingReason: the VirtualMachine is being destroyed.
	DeletingReason = "Deleting"
)

// Initialization is the contract's status.initialization.
type Initialization struct {
	// Provisioned is true once the infrastructure is ready for Cluster API.
	// +optional
	Provisioned *bool `json:"provisioned,omitempty"`
}

// VSphereClusterSpec is a guest cluster's infrastructure.
type VSphereClusterSpec struct {
	// ControlPlaneEndpoint is the VIP of the control plane; the provider
	// fills it in once the VIP serves.
	// +optional
	ControlPlaneEndpoint clusterv1.APIEndpoint `json:"controlPlaneEndpoint,omitempty,omitzero"`
}

// VSphereClusterStatus is what the provider observed.
type VSphereClusterStatus struct {
	// +optional
	Initialization Initialization `json:"initialization,omitempty,omitzero"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VSphereCluster is a supervisor-style cluster's infrastructure.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=cluster-api
// +kubebuilder:metadata:labels="cluster.x-k8s.io/v1beta2=v1beta1"
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']"
// +kubebuilder:printcolumn:name="Endpoint",type="string",JSONPath=".spec.controlPlaneEndpoint.host"
// +kubebuilder:printcolumn:name="Provisioned",type="boolean",JSONPath=".status.initialization.provisioned"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VSphereCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VSphereClusterSpec   `json:"spec,omitempty"`
	Status VSphereClusterStatus `json:"status,omitempty"`
}

// VSphereClusterList is a list of VSphereClusters.
//
// +kubebuilder:object:root=true
type VSphereClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VSphereCluster `json:"items"`
}

// VSphereMachineSpec is the VM a Machine runs on.
type VSphereMachineSpec struct {
	// ProviderID is vsphere://<BIOS UUID>, set once the VM exists.
	// +optional
	ProviderID string `json:"providerID,omitempty"`
	// FailureDomain is not used yet (one zone).
	// +optional
	FailureDomain string `json:"failureDomain,omitempty"`
	// ImageName is the VirtualMachineImage or ClusterVirtualMachineImage.
	ImageName string `json:"imageName"`
	// ClassName is the VirtualMachineClass.
	ClassName string `json:"className"`
	// StorageClass of the VM's disks.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
	// Volumes are extra disks, each a PersistentVolumeClaim named
	// <machine>-<volume> attached to the VM.
	// +optional
	// +listType=map
	// +listMapKey=name
	Volumes []VSphereMachineVolume `json:"volumes,omitempty"`
}

// VSphereMachineVolume is an extra disk of a machine.
type VSphereMachineVolume struct {
	// Name of the volume; the claim is <machine>-<name>.
	Name string `json:"name"`
	// Capacity is the disk's size (storage).
	Capacity corev1.ResourceList `json:"capacity"`
	// StorageClass of the claim; the machine's when empty.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
}

// VSphereMachineStatus is what the provider observed.
type VSphereMachineStatus struct {
	// +optional
	Initialization Initialization `json:"initialization,omitempty,omitzero"`
	// Addresses of the VM.
	// +optional
	Addresses []clusterv1.MachineAddress `json:"addresses,omitempty"`
	// VMStatus is the VM's power state as last seen.
	// +optional
	VMStatus string `json:"vmStatus,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VSphereMachine is a Machine's VM, realised as a vm-operator VirtualMachine.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=cluster-api
// +kubebuilder:metadata:labels="cluster.x-k8s.io/v1beta2=v1beta1"
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']"
// +kubebuilder:printcolumn:name="ProviderID",type="string",JSONPath=".spec.providerID"
// +kubebuilder:printcolumn:name="VM",type="string",JSONPath=".status.vmStatus"
// +kubebuilder:printcolumn:name="Provisioned",type="boolean",JSONPath=".status.initialization.provisioned"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VSphereMachine struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VSphereMachineSpec   `json:"spec,omitempty"`
	Status VSphereMachineStatus `json:"status,omitempty"`
}

// VSphereMachineList is a list of VSphereMachines.
//
// +kubebuilder:object:root=true
type VSphereMachineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VSphereMachine `json:"items"`
}

// VSphereMachineTemplateResource is the template's machine.
type VSphereMachineTemplateResource struct {
	Spec VSphereMachineSpec `json:"spec"`
}

// VSphereMachineTemplateSpec holds the template.
type VSphereMachineTemplateSpec struct {
	Template VSphereMachineTemplateResource `json:"template"`
}

// VSphereMachineTemplate is what MachineDeployments and
// KubeadmControlPlanes clone VSphereMachines from.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=cluster-api
// +kubebuilder:metadata:labels="cluster.x-k8s.io/v1beta2=v1beta1"
// +kubebuilder:storageversion
type VSphereMachineTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec VSphereMachineTemplateSpec `json:"spec,omitempty"`
}

// VSphereMachineTemplateList is a list of VSphereMachineTemplates.
//
// +kubebuilder:object:root=true
type VSphereMachineTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VSphereMachineTemplate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VSphereCluster{}, &VSphereClusterList{}, &VSphereMachine{}, &VSphereMachineList{},
		&VSphereMachineTemplate{}, &VSphereMachineTemplateList{})
}
