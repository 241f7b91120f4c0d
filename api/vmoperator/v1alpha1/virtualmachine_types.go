package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// VirtualMachinePowerState is v1alpha1's power state.
// +kubebuilder:validation:Enum=poweredOff;poweredOn;suspended
type VirtualMachinePowerState string

// Power states.
const (
	VirtualMachinePoweredOff VirtualMachinePowerState = "poweredOff"
	VirtualMachinePoweredOn  VirtualMachinePowerState = "poweredOn"
	VirtualMachineSuspended  VirtualMachinePowerState = "suspended"
)

// VirtualMachinePowerOpMode is how a power operation is carried out.
// +kubebuilder:validation:Enum=hard;soft;trySoft
type VirtualMachinePowerOpMode string

// VMStatusPhase is a VM's lifecycle phase.
type VMStatusPhase string

// Phases.
const (
	Creating VMStatusPhase = "Creating"
	Created  VMStatusPhase = "Created"
	Deleting VMStatusPhase = "Deleting"
	Unknown  VMStatusPhase = "Unknown"
)

// VirtualMachineMetadataTransport is how vmMetadata reaches the guest.
// +kubebuilder:validation:Enum=ExtraConfig;OvfEnv;vAppConfig;CloudInit;Sysprep
type VirtualMachineMetadataTransport string

// Transports.
const (
	VirtualMachineMetadataExtraConfigTransport VirtualMachineMetadataTransport = "ExtraConfig"
	VirtualMachineMetadataOvfEnvTransport      VirtualMachineMetadataTransport = "OvfEnv"
	VirtualMachineMetadataVAppConfigTransport  VirtualMachineMetadataTransport = "vAppConfig"
	VirtualMachineMetadataCloudInitTransport   VirtualMachineMetadataTransport = "CloudInit"
	VirtualMachineMetadataSysprepTransport     VirtualMachineMetadataTransport = "Sysprep"
)

// VirtualMachinePort is a port the VM exposes (informational).
type VirtualMachinePort struct {
	Port     int             `json:"port"`
	Ip       string          `json:"ip"` //nolint:revive // vm-operator's field name
	Name     string          `json:"name"`
	Protocol corev1.Protocol `json:"protocol"`
}

// NetworkInterfaceProviderReference refers to a network interface provider.
type NetworkInterfaceProviderReference struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
}

// VirtualMachineNetworkInterface is a NIC on a network.
type VirtualMachineNetworkInterface struct {
	// NetworkType: vsphere-distributed (this supervisor's), nsx-t, ...
	// +optional
	NetworkType string `json:"networkType,omitempty"`
	// NetworkName names the network; the namespace's default when empty.
	// +optional
	NetworkName string `json:"networkName,omitempty"`
	// +optional
	ProviderRef *NetworkInterfaceProviderReference `json:"providerRef,omitempty"`
	// +optional
	EthernetCardType string `json:"ethernetCardType,omitempty"`
}

// VirtualMachineMetadata is guest data from a ConfigMap or Secret, and how
// it reaches the guest.
type VirtualMachineMetadata struct {
	// +optional
	ConfigMapName string `json:"configMapName,omitempty"`
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// +optional
	Transport VirtualMachineMetadataTransport `json:"transport,omitempty"`
}

// VirtualMachineVolume is a disk of the VM.
type VirtualMachineVolume struct {
	Name string `json:"name"`
	// +optional
	PersistentVolumeClaim *PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
	// +optional
	VsphereVolume *VsphereVolumeSource `json:"vSphereVolume,omitempty"`
}

// PersistentVolumeClaimVolumeSource is a claim of the VM's namespace.
type PersistentVolumeClaimVolumeSource struct {
	corev1.PersistentVolumeClaimVolumeSource `json:",inline"`
}

// VsphereVolumeSource is the VM's own disk; deviceKey 2000, the boot disk,
// with a capacity grows it.
type VsphereVolumeSource struct {
	// +optional
	Capacity corev1.ResourceList `json:"capacity,omitempty"`
	// +optional
	DeviceKey *int `json:"deviceKey,omitempty"`
}

// Probe is a readiness probe.
type Probe struct {
	// +optional
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	// +optional
	GuestHeartbeat *GuestHeartbeatAction `json:"guestHeartbeat,omitempty"`
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`
}

// TCPSocketAction opens a TCP connection.
type TCPSocketAction struct {
	Port intstr.IntOrString `json:"port"`
	// +optional
	Host string `json:"host,omitempty"`
}

// GuestHeartbeatAction checks VMware Tools' heartbeat.
type GuestHeartbeatAction struct {
	// +optional
	// +kubebuilder:validation:Enum=gray;red;yellow;green
	ThresholdStatus string `json:"thresholdStatus,omitempty"`
}

// VirtualMachineAdvancedOptions are advanced options.
type VirtualMachineAdvancedOptions struct {
	// +optional
	DefaultVolumeProvisioningOptions *VirtualMachineVolumeProvisioningOptions `json:"defaultVolumeProvisioningOptions,omitempty"`
	// +optional
	ChangeBlockTracking *bool `json:"changeBlockTracking,omitempty"`
}

// VirtualMachineVolumeProvisioningOptions say how volumes are provisioned.
type VirtualMachineVolumeProvisioningOptions struct {
	// +optional
	ThinProvisioned *bool `json:"thinProvisioned,omitempty"`
	// +optional
	EagerZeroed *bool `json:"eagerZeroed,omitempty"`
}

// VirtualMachineSpec is v1alpha1's desired state of a VM.
type VirtualMachineSpec struct {
	ImageName string `json:"imageName"`
	ClassName string `json:"className"`
	// +optional
	PowerState VirtualMachinePowerState `json:"powerState,omitempty"`
	// +optional
	PowerOffMode VirtualMachinePowerOpMode `json:"powerOffMode,omitempty"`
	// +optional
	SuspendMode VirtualMachinePowerOpMode `json:"suspendMode,omitempty"`
	// +optional
	NextRestartTime string `json:"nextRestartTime,omitempty"`
	// +optional
	RestartMode VirtualMachinePowerOpMode `json:"restartMode,omitempty"`
	// +optional
	Ports []VirtualMachinePort `json:"ports,omitempty"`
	// +optional
	VmMetadata *VirtualMachineMetadata `json:"vmMetadata,omitempty"` //nolint:revive // vm-operator's field name
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxItems=10
	NetworkInterfaces []VirtualMachineNetworkInterface `json:"networkInterfaces,omitempty"`
	// +optional
	ResourcePolicyName string `json:"resourcePolicyName,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=name
	Volumes []VirtualMachineVolume `json:"volumes,omitempty"`
	// +optional
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
	// +optional
	AdvancedOptions *VirtualMachineAdvancedOptions `json:"advancedOptions,omitempty"`
	// +optional
	MinHardwareVersion int32 `json:"minHardwareVersion,omitempty"`
}

// VirtualMachineVolumeStatus is a volume as vCenter has it.
type VirtualMachineVolumeStatus struct {
	Name     string `json:"name"`
	Attached bool   `json:"attached"`
	DiskUuid string `json:"diskUUID"` //nolint:revive // vm-operator's field name
	Error    string `json:"error"`
}

// NetworkInterfaceStatus is a NIC as the guest reports it.
type NetworkInterfaceStatus struct {
	Connected bool `json:"connected"`
	// +optional
	MacAddress string `json:"macAddress,omitempty"`
	// +optional
	IpAddresses []string `json:"ipAddresses,omitempty"` //nolint:revive // vm-operator's field name
}

// VirtualMachineStatus is v1alpha1's observed state of a VM.
type VirtualMachineStatus struct {
	// +optional
	Host string `json:"host,omitempty"`
	// +optional
	PowerState VirtualMachinePowerState `json:"powerState,omitempty"`
	// +optional
	Phase VMStatusPhase `json:"phase,omitempty"`
	// +optional
	Conditions []Condition `json:"conditions,omitempty"`
	// +optional
	VmIp string `json:"vmIp,omitempty"` //nolint:revive // vm-operator's field name
	// +optional
	UniqueID string `json:"uniqueID,omitempty"`
	// +optional
	BiosUUID string `json:"biosUUID,omitempty"`
	// +optional
	InstanceUUID string `json:"instanceUUID,omitempty"`
	// +optional
	Volumes []VirtualMachineVolumeStatus `json:"volumes,omitempty"`
	// +optional
	NetworkInterfaces []NetworkInterfaceStatus `json:"networkInterfaces,omitempty"`
	// +optional
	LastRestartTime *metav1.Time `json:"lastRestartTime,omitempty"`
}

// VirtualMachine is vSphere 7's VM service VirtualMachine.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vm
// +kubebuilder:printcolumn:name="Power-State",type="string",JSONPath=".status.powerState"
// +kubebuilder:printcolumn:name="Class",type="string",priority=1,JSONPath=".spec.className"
// +kubebuilder:printcolumn:name="Image",type="string",priority=1,JSONPath=".spec.imageName"
// +kubebuilder:printcolumn:name="Primary-IP",type="string",priority=1,JSONPath=".status.vmIp"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VirtualMachine struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VirtualMachineSpec   `json:"spec,omitempty"`
	Status VirtualMachineStatus `json:"status,omitempty"`
}

// VirtualMachineList is a list of VirtualMachines.
//
// +kubebuilder:object:root=true
type VirtualMachineList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachine `json:"items"`
}

// bootDiskDeviceKey is the device key of a VM's first disk, which a
// vSphereVolume names to resize the boot disk.
const bootDiskDeviceKey = 2000

// bootDiskCapacity is the capacity a vSphereVolume asks of the boot disk.
func bootDiskCapacity(volumes []VirtualMachineVolume) *resource.Quantity {
	for _, v := range volumes {
		if vv := v.VsphereVolume; vv != nil && vv.DeviceKey != nil && *vv.DeviceKey == bootDiskDeviceKey {
			if q, ok := vv.Capacity[corev1.ResourceEphemeralStorage]; ok {
				return &q
			}
			if q, ok := vv.Capacity[corev1.ResourceStorage]; ok {
				return &q
			}
		}
	}
	return nil
}

func init() {
	SchemeBuilder.Register(&VirtualMachine{}, &VirtualMachineList{})
}
