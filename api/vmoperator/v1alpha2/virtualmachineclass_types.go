package v1alpha2

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VirtualMachineClassHardware is the virtual hardware of a class.
type VirtualMachineClassHardware struct {
	// Cpus is the number of virtual CPUs.
	// +optional
	Cpus int64 `json:"cpus,omitempty"`
	// Memory is the amount of memory.
	// +optional
	Memory resource.Quantity `json:"memory,omitempty"`
	// Devices are vGPU and dynamic DirectPath I/O devices; this
	// supervisor's hosts have none, so the webhook refuses them.
	// +optional
	Devices VirtualDevices `json:"devices,omitempty,omitzero"`
	// InstanceStorage are host-local disks; this supervisor's hosts have
	// none, so the webhook refuses them.
	// +optional
	InstanceStorage InstanceStorage `json:"instanceStorage,omitempty,omitzero"`
}

// VGPUDevice is an NVIDIA vGPU by profile.
type VGPUDevice struct {
	ProfileName string `json:"profileName"`
}

// DynamicDirectPathIODevice is a PCI device passed through by vendor and device ID.
type DynamicDirectPathIODevice struct {
	VendorID int64 `json:"vendorID"`
	DeviceID int64 `json:"deviceID"`
	// +optional
	CustomLabel string `json:"customLabel,omitempty"`
}

// VirtualDevices are a class's passthrough devices.
type VirtualDevices struct {
	// +optional
	// +listType=map
	// +listMapKey=profileName
	VGPUDevices []VGPUDevice `json:"vgpuDevices,omitempty"`
	// +optional
	DynamicDirectPathIODevices []DynamicDirectPathIODevice `json:"dynamicDirectPathIODevices,omitempty"`
}

// InstanceStorage is host-local storage for VMs of a class.
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
	// Cpu as a frequency (e.g. 1000Mi means 1000 MHz).
	// +optional
	Cpu resource.Quantity `json:"cpu,omitempty"` //nolint:revive // vm-operator's field name
	// Memory in bytes.
	// +optional
	Memory resource.Quantity `json:"memory,omitempty"`
}

// VirtualMachineClassResources holds reservations (requests) and limits.
type VirtualMachineClassResources struct {
	// Requests are reserved for the VM.
	// +optional
	Requests VirtualMachineResourceSpec `json:"requests,omitempty"`
	// Limits cap the VM.
	// +optional
	Limits VirtualMachineResourceSpec `json:"limits,omitempty"`
}

// VirtualMachineClassPolicies are the class's resource policies.
type VirtualMachineClassPolicies struct {
	// Resources are the reservations and limits.
	// +optional
	Resources VirtualMachineClassResources `json:"resources,omitempty"`
}

// VirtualMachineClassSpec describes the size of VMs of this class.
type VirtualMachineClassSpec struct {
	// ControllerName names the controller that handles VMs of this class.
	// +optional
	ControllerName string `json:"controllerName,omitempty"`
	// Hardware is the virtual hardware.
	// +optional
	Hardware VirtualMachineClassHardware `json:"hardware,omitempty"`
	// Policies are the resource policies. A request equal to the hardware
	// reserves it fully ("guaranteed-" classes); no request reserves nothing
	// ("best-effort-" classes).
	// +optional
	Policies VirtualMachineClassPolicies `json:"policies,omitempty"`
	// Description of the class.
	// +optional
	Description string `json:"description,omitempty"`
	// ConfigSpec is a vSphere VirtualMachineConfigSpec in vim25 JSON (with
	// _typeName), applied to every clone of this class. Its extraConfig,
	// deviceChange additions, annotation and firmware are applied; any
	// other field is refused by the webhook.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	ConfigSpec json.RawMessage `json:"configSpec,omitempty"`
}

// VirtualMachineClassStatus is the observed state of a class.
type VirtualMachineClassStatus struct {
	// Ready says whether VMs of this class can be deployed.
	// +optional
	Ready bool `json:"ready,omitempty"`
}

// VirtualMachineClass sizes VirtualMachines: CPU, memory and reservations.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
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

// VirtualMachineClassList is a list of VirtualMachineClasses.
//
// +kubebuilder:object:root=true
type VirtualMachineClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualMachineClass `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VirtualMachineClass{}, &VirtualMachineClassList{})
}
