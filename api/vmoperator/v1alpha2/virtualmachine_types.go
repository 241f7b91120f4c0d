package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VirtualMachineFinalizer keeps a VirtualMachine until the VM service has
// deleted its VM in vCenter and released its addresses.
const VirtualMachineFinalizer = "vmoperator.vmware.com/virtual-machine"

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

	// PowerOffMode says how the VM is powered off: Hard (power off), Soft
	// (guest shutdown) or TrySoft (guest shutdown, powered off if the guest
	// cannot shut down). Defaults to Hard.
	// +optional
	// +kubebuilder:validation:Enum=Hard;Soft;TrySoft
	PowerOffMode string `json:"powerOffMode,omitempty"`

	// SuspendMode says how the VM is suspended: Hard (suspend), Soft (guest
	// standby) or TrySoft. Defaults to Hard.
	// +optional
	// +kubebuilder:validation:Enum=Hard;Soft;TrySoft
	SuspendMode string `json:"suspendMode,omitempty"`

	// NextRestartTime asks for a restart: "now" (the webhook writes the
	// current time in its place) or an RFC3339 time. A powered-on VM is
	// restarted once for each new value later than status.lastRestartTime.
	// +optional
	NextRestartTime string `json:"nextRestartTime,omitempty"`

	// RestartMode says how the VM is restarted: Hard (reset), Soft (guest
	// reboot) or TrySoft. Defaults to Hard.
	// +optional
	// +kubebuilder:validation:Enum=Hard;Soft;TrySoft
	RestartMode string `json:"restartMode,omitempty"`

	// ReadinessProbe says how the VM's readiness is checked; Ready is True
	// only while it passes.
	// +optional
	ReadinessProbe *VirtualMachineReadinessProbeSpec `json:"readinessProbe,omitempty"`

	// Advanced holds fields for advanced use.
	// +optional
	Advanced *VirtualMachineAdvancedSpec `json:"advanced,omitempty"`

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

// VirtualMachineAdvancedSpec holds fields for advanced use.
type VirtualMachineAdvancedSpec struct {
	// BootDiskCapacity is the size of the boot disk; the image's disk is
	// grown to it after the clone (never shrunk).
	// +optional
	BootDiskCapacity *resource.Quantity `json:"bootDiskCapacity,omitempty"`
}

// VirtualMachineReservedSpec holds fields reserved for infrastructure providers.
type VirtualMachineReservedSpec struct {
	// ResourcePolicyName names a VirtualMachineSetResourcePolicy.
	// +optional
	ResourcePolicyName string `json:"resourcePolicyName,omitempty"`
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
	// +kubebuilder:validation:MaxItems=10
	Interfaces []VirtualMachineNetworkInterfaceSpec `json:"interfaces,omitempty"`
}

// VirtualMachineNetworkInterfaceSpec is one network interface: a NIC on its
// network in vCenter and its configuration in the guest.
type VirtualMachineNetworkInterfaceSpec struct {
	// Name of the interface in the guest, e.g. eth0.
	// +kubebuilder:validation:Pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
	Name string `json:"name"`

	// Network the interface connects to: a WorkloadNetwork
	// (vsphere.opensupervisor.io) by name; the namespace's first network
	// when omitted.
	// +optional
	Network PartialObjectRef `json:"network,omitempty,omitzero"`

	// GuestDeviceName is the interface's name in the guest when it differs
	// from name.
	// +optional
	GuestDeviceName string `json:"guestDeviceName,omitempty"`

	// Addresses are static addresses in CIDR notation; when empty the
	// interface gets one from its network's range (or DHCP, see dhcp4).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Addresses []string `json:"addresses,omitempty"`

	// DHCP4 has the guest take its IPv4 address from DHCP.
	// +optional
	DHCP4 bool `json:"dhcp4,omitempty"`

	// DHCP6 has the guest take its IPv6 address from DHCP.
	// +optional
	DHCP6 bool `json:"dhcp6,omitempty"`

	// Gateway4 is the IPv4 default gateway; "None" leaves it out.
	// +optional
	Gateway4 string `json:"gateway4,omitempty"`

	// Gateway6 is the IPv6 default gateway; "None" leaves it out.
	// +optional
	Gateway6 string `json:"gateway6,omitempty"`

	// MTU of the interface.
	// +optional
	MTU *int64 `json:"mtu,omitempty"`

	// Nameservers of this interface (DNS servers, IPv4 or IPv6).
	// +optional
	Nameservers []string `json:"nameservers,omitempty"`

	// Routes are static routes of this interface.
	// +optional
	Routes []VirtualMachineNetworkRouteSpec `json:"routes,omitempty"`

	// SearchDomains of this interface.
	// +optional
	SearchDomains []string `json:"searchDomains,omitempty"`
}

// VirtualMachineNetworkRouteSpec is a static route.
type VirtualMachineNetworkRouteSpec struct {
	// To is the destination in CIDR notation, or "default".
	To string `json:"to"`
	// Via is the gateway address.
	Via string `json:"via"`
	// Metric is the route's weight.
	// +optional
	Metric int32 `json:"metric,omitempty"`
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

	// LastRestartTime is when the VM was last restarted through
	// spec.nextRestartTime.
	// +optional
	LastRestartTime *metav1.Time `json:"lastRestartTime,omitempty"`

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
