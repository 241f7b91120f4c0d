package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VirtualMachinePowerState is the power state of a VirtualMachine.
// +kubebuilder:validation:Enum=PoweredOn;PoweredOff;Suspended
type VirtualMachinePowerState string

const (
	VirtualMachinePowerStateOn        VirtualMachinePowerState = "PoweredOn"
	VirtualMachinePowerStateOff       VirtualMachinePowerState = "PoweredOff"
	VirtualMachinePowerStateSuspended VirtualMachinePowerState = "Suspended"
)

// VirtualMachineSpec is the desired state of a VirtualMachine.
type VirtualMachineSpec struct {
	// ImageName names a VirtualMachineImage in the namespace or a
	// ClusterVirtualMachineImage.
	ImageName string `json:"imageName,omitempty"`

	// ClassName names the VirtualMachineClass that sizes the VM.
	ClassName string `json:"className,omitempty"`

	// StorageClass names the StorageClass whose datastore holds the VM.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`

	// Bootstrap is the guest's first-boot configuration.
	// +optional
	Bootstrap *VirtualMachineBootstrapSpec `json:"bootstrap,omitempty"`

	// Network is the VM's network configuration.
	// +optional
	Network *VirtualMachineNetworkSpec `json:"network,omitempty"`

	// PowerState is the desired power state; defaults to PoweredOn.
	// +optional
	PowerState VirtualMachinePowerState `json:"powerState,omitempty"`

	// PowerOffMode says how the VM is powered off.
	// +optional
	// +kubebuilder:validation:Enum=Hard;Soft;TrySoft
	PowerOffMode string `json:"powerOffMode,omitempty"`

	// Reserved holds fields reserved for infrastructure providers.
	// +optional
	Reserved *VirtualMachineReservedSpec `json:"reserved,omitempty"`

	// MinHardwareVersion is the lowest hardware version the VM may have.
	// +optional
	MinHardwareVersion int32 `json:"minHardwareVersion,omitempty"`

	// Volumes are disks attached to the VM, each backed by a
	// PersistentVolumeClaim of the VM's namespace.
	// +optional
	// +listType=map
	// +listMapKey=name
	Volumes []VirtualMachineVolume `json:"volumes,omitempty"`
}

// VirtualMachineVolume is a disk of the VM.
type VirtualMachineVolume struct {
	// Name of the volume, unique in the VM.
	Name string `json:"name"`
	// PersistentVolumeClaim whose size and storage class the disk takes.
	// +optional
	PersistentVolumeClaim *PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
}

// PersistentVolumeClaimVolumeSource references a claim in the VM's namespace.
type PersistentVolumeClaimVolumeSource struct {
	corev1.PersistentVolumeClaimVolumeSource `json:",inline"`
}

// VirtualMachineVolumeStatus is a volume as vCenter has it.
type VirtualMachineVolumeStatus struct {
	// Name of the volume.
	Name string `json:"name"`
	// Attached says whether the disk is on the VM.
	Attached bool `json:"attached"`
	// DiskUUID is the disk's UUID in vCenter.
	// +optional
	DiskUUID string `json:"diskUUID,omitempty"`
	// Error says why the volume is not attached.
	// +optional
	Error string `json:"error,omitempty"`
}

// VirtualMachineReservedSpec holds fields reserved for infrastructure providers.
type VirtualMachineReservedSpec struct {
	// ResourcePolicyName names a VirtualMachineSetResourcePolicy.
	// +optional
	ResourcePolicyName string `json:"resourcePolicyName,omitempty"`
}

// VirtualMachineBootstrapSpec selects how the guest is configured on first boot.
type VirtualMachineBootstrapSpec struct {
	// CloudInit delivers cloud-init user data through guestinfo.
	// +optional
	CloudInit *VirtualMachineBootstrapCloudInitSpec `json:"cloudInit,omitempty"`
}

// VirtualMachineBootstrapCloudInitSpec is cloud-init bootstrap data.
type VirtualMachineBootstrapCloudInitSpec struct {
	// RawCloudConfig selects a Secret key holding cloud-init user data
	// (the "#cloud-config" document or a MIME multipart).
	// +optional
	RawCloudConfig *SecretKeySelector `json:"rawCloudConfig,omitempty"`

	// SSHAuthorizedKeys are added to the default user.
	// +optional
	SSHAuthorizedKeys []string `json:"sshAuthorizedKeys,omitempty"`
}

// VirtualMachineNetworkSpec is the VM's network configuration.
type VirtualMachineNetworkSpec struct {
	// HostName is the guest's host name; defaults to the VM's name.
	// +optional
	HostName string `json:"hostName,omitempty"`

	// Disabled leaves the VM without network interfaces.
	// +optional
	Disabled bool `json:"disabled,omitempty"`

	// Nameservers for the guest.
	// +optional
	Nameservers []string `json:"nameservers,omitempty"`

	// SearchDomains for the guest.
	// +optional
	SearchDomains []string `json:"searchDomains,omitempty"`

	// Interfaces are the VM's network interfaces. When empty the VM gets one
	// interface on the namespace's default network.
	// +optional
	// +kubebuilder:validation:MaxItems=1
	Interfaces []VirtualMachineNetworkInterfaceSpec `json:"interfaces,omitempty"`
}

// VirtualMachineNetworkInterfaceSpec is one network interface.
type VirtualMachineNetworkInterfaceSpec struct {
	// Name of the interface in the guest, e.g. eth0.
	Name string `json:"name"`

	// Network the interface connects to: a WorkloadNetwork
	// (vsphere.opensupervisor.io) by name.
	// +optional
	Network PartialObjectRef `json:"network,omitempty"`
}

// VirtualMachineStatus is the observed state of a VirtualMachine.
type VirtualMachineStatus struct {
	// Conditions tell what is ready and, when something is not, why.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Host is the name of the ESXi host the VM runs on.
	// +optional
	Host string `json:"host,omitempty"`

	// InstanceUUID is the VM's vCenter instance UUID (equal to the object's UID).
	// +optional
	InstanceUUID string `json:"instanceUUID,omitempty"`

	// BiosUUID is the VM's BIOS UUID; providerIDs derive from it.
	// +optional
	BiosUUID string `json:"biosUUID,omitempty"`

	// UniqueID is the VM's managed object ID in vCenter.
	// +optional
	UniqueID string `json:"uniqueID,omitempty"`

	// PowerState is the observed power state.
	// +optional
	PowerState VirtualMachinePowerState `json:"powerState,omitempty"`

	// Network is the observed network state.
	// +optional
	Network *VirtualMachineNetworkStatus `json:"network,omitempty"`

	// Class is the VirtualMachineClass the VM was sized from.
	// +optional
	Class *LocalObjectRef `json:"class,omitempty"`

	// Image is the image the VM was cloned from.
	// +optional
	Image *LocalObjectRef `json:"image,omitempty"`

	// Volumes are the spec's volumes as attached in vCenter.
	// +optional
	// +listType=map
	// +listMapKey=name
	Volumes []VirtualMachineVolumeStatus `json:"volumes,omitempty"`

	// TaskRef is the vCenter task creating the VM while one is in flight, so
	// that a restarted or concurrent reconcile waits for it instead of cloning
	// again.
	// +optional
	TaskRef string `json:"taskRef,omitempty"`

	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// VirtualMachineNetworkStatus is the observed network state of a VM.
type VirtualMachineNetworkStatus struct {
	// PrimaryIP4 is the VM's IPv4 address as vCenter reports it.
	// +optional
	PrimaryIP4 string `json:"primaryIP4,omitempty"`

	// PrimaryIP6 is the VM's IPv6 address as vCenter reports it.
	// +optional
	PrimaryIP6 string `json:"primaryIP6,omitempty"`

	// Interfaces are the observed network interfaces.
	// +optional
	Interfaces []VirtualMachineNetworkInterfaceStatus `json:"interfaces,omitempty"`
}

// VirtualMachineNetworkInterfaceStatus is one observed network interface.
type VirtualMachineNetworkInterfaceStatus struct {
	// Name of the interface (from spec).
	// +optional
	Name string `json:"name,omitempty"`
	// IP holds the interface's addresses.
	// +optional
	IP *VirtualMachineNetworkInterfaceIPStatus `json:"ip,omitempty"`
}

// VirtualMachineNetworkInterfaceIPStatus holds an interface's addresses.
type VirtualMachineNetworkInterfaceIPStatus struct {
	// Addresses in CIDR notation.
	// +optional
	Addresses []VirtualMachineNetworkInterfaceIPAddrStatus `json:"addresses,omitempty"`
	// MACAddr is the interface's MAC address.
	// +optional
	MACAddr string `json:"macAddr,omitempty"`
}

// VirtualMachineNetworkInterfaceIPAddrStatus is one address of an interface.
type VirtualMachineNetworkInterfaceIPAddrStatus struct {
	// Address in CIDR notation.
	Address string `json:"address"`
	// Origin of the address: dhcp, static, ...
	// +optional
	Origin string `json:"origin,omitempty"`
}

// VirtualMachine is a virtual machine in vCenter managed through Kubernetes.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=vm
// +kubebuilder:printcolumn:name="Power-State",type="string",JSONPath=".status.powerState"
// +kubebuilder:printcolumn:name="Class",type="string",priority=1,JSONPath=".spec.className"
// +kubebuilder:printcolumn:name="Image",type="string",priority=1,JSONPath=".spec.imageName"
// +kubebuilder:printcolumn:name="Primary-IP4",type="string",priority=1,JSONPath=".status.network.primaryIP4"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachine struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineSpec   `json:"spec,omitempty"`
	Status VirtualMachineStatus `json:"status,omitempty"`
}

// GetConditions returns the VM's conditions (for Cluster API's condition helpers).
func (vm *VirtualMachine) GetConditions() []metav1.Condition { return vm.Status.Conditions }

// SetConditions replaces the VM's conditions.
func (vm *VirtualMachine) SetConditions(c []metav1.Condition) { vm.Status.Conditions = c }

// VirtualMachineList is a list of VirtualMachines.
//
// +kubebuilder:object:root=true
type VirtualMachineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachine `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VirtualMachine{}, &VirtualMachineList{})
}
