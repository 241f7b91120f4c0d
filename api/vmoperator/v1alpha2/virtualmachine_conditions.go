package v1alpha2

// Condition types a VirtualMachine reports; each False condition carries a
// reason below and a message naming the field at fault.
const (
	VirtualMachineConditionClassReady     = "VirtualMachineClassReady"
	VirtualMachineConditionImageReady     = "VirtualMachineImageReady"
	VirtualMachineConditionStorageReady   = "VirtualMachineStorageReady"
	VirtualMachineConditionNetworkReady   = "VirtualMachineNetworkReady"
	VirtualMachineConditionBootstrapReady = "VirtualMachineBootstrapReady"
	VirtualMachineConditionCreated        = "VirtualMachineCreated"
	// VirtualMachineConditionReady summarises the others: True once the VM is
	// powered on as asked and, when powered on, has its IP.
	VirtualMachineConditionReady = "Ready"
)

// Reasons shared by several VirtualMachine conditions.
const (
	// VirtualMachineReadyReason is the reason of every True condition.
	VirtualMachineReadyReason = "Ready"
	// VirtualMachineNotFoundReason: the object a field names (class, image,
	// StorageClass, WorkloadNetwork) does not exist.
	VirtualMachineNotFoundReason = "NotFound"
)

// Reasons of VirtualMachineConditionClassReady.
const (
	VirtualMachineClassNameMissingReason = "ClassNameMissing"
	// VirtualMachineClassInvalidReason: the class has no CPUs or memory.
	VirtualMachineClassInvalidReason = "InvalidClass"
)

// Reasons of VirtualMachineConditionImageReady.
const (
	VirtualMachineImageNameMissingReason = "ImageNameMissing"
	// VirtualMachineImageNotReadyReason: the image has no content in vCenter yet.
	VirtualMachineImageNotReadyReason = "NotReady"
	// VirtualMachineImageNoNetworkReason: an OVF image needs a network to
	// deploy onto and the VM has networking disabled.
	VirtualMachineImageNoNetworkReason       = "NoNetwork"
	VirtualMachineImageUnsupportedTypeReason = "UnsupportedType"
)

// Reasons of VirtualMachineConditionStorageReady.
const (
	VirtualMachineStorageClassMissingReason = "StorageClassMissing"
	// VirtualMachineStorageNoDatastoreReason: the StorageClass has no
	// datastoreURL parameter.
	VirtualMachineStorageNoDatastoreReason = "NoDatastore"
	// VirtualMachineStorageDatastoreNotFoundReason: vCenter has no datastore
	// with the StorageClass's datastoreURL.
	VirtualMachineStorageDatastoreNotFoundReason = "DatastoreNotFound"
	// VirtualMachineVolumeInvalidReason: a volume is unnamed, or its name
	// or claim is used by another volume.
	VirtualMachineVolumeInvalidReason          = "InvalidVolume"
	VirtualMachineVolumeClaimNotFoundReason    = "PersistentVolumeClaimNotFound"
	VirtualMachineVolumeNoStorageRequestReason = "NoStorageRequest"
	// VirtualMachineVolumeNoFreeUnitReason: the VM's SCSI controller has no
	// free unit left for another disk.
	VirtualMachineVolumeNoFreeUnitReason = "NoFreeUnit"
)

// Reasons of VirtualMachineConditionNetworkReady.
const (
	// VirtualMachineNetworkPortGroupNotFoundReason: vCenter has no portgroup
	// of the WorkloadNetwork's name.
	VirtualMachineNetworkPortGroupNotFoundReason = "PortGroupNotFound"
	// VirtualMachineNetworkNotAllowedReason: the network is not one of the
	// vSphere Namespace's networks.
	VirtualMachineNetworkNotAllowedReason = "NetworkNotAllowed"
	// VirtualMachineNetworkNoFreeIPReason: every address of the network is
	// in use; the VM waits for one to be released.
	VirtualMachineNetworkNoFreeIPReason = "NoFreeIP"
)

// Reasons of VirtualMachineConditionBootstrapReady.
const (
	VirtualMachineBootstrapSecretNotFoundReason     = "SecretNotFound"
	VirtualMachineBootstrapKeyNotFoundReason        = "KeyNotFound"
	VirtualMachineBootstrapInvalidCloudConfigReason = "InvalidCloudConfig"
	VirtualMachineBootstrapConflictReason           = "Conflict"
)

// Reasons of VirtualMachineConditionCreated (and of Ready while it is False).
const (
	// VirtualMachineCloningReason: vCenter is cloning the VM.
	VirtualMachineCloningReason = "Cloning"
	// VirtualMachineCloneFailedReason: vCenter refused or failed the clone.
	VirtualMachineCloneFailedReason = "CloneFailed"
	// VirtualMachineDuplicateNameReason: a VM of the same name that this
	// object does not own is in the namespace's folder.
	VirtualMachineDuplicateNameReason = "DuplicateName"
)

// Reasons of VirtualMachineConditionReady.
const (
	// VirtualMachinePowerStateChangingReason: the VM is not yet in the power
	// state spec.powerState asks for.
	VirtualMachinePowerStateChangingReason = "PowerStateChanging"
	// VirtualMachineWaitingForIPReason: the VM is powered on and its guest
	// has not reported its address yet.
	VirtualMachineWaitingForIPReason = "WaitingForIP"
)

// Reasons of VirtualMachineConditionReady set by the readiness probe and by
// restarts.
const (
	// VirtualMachineReadinessProbeFailedReason: spec.readinessProbe does not pass.
	VirtualMachineReadinessProbeFailedReason = "ReadinessProbeFailed"
	// VirtualMachineRestartTimeInvalidReason: spec.nextRestartTime is malformed.
	VirtualMachineRestartTimeInvalidReason = "InvalidNextRestartTime"
	// VirtualMachineRestartedReason (an event): the VM was restarted as
	// spec.nextRestartTime asked.
	VirtualMachineRestartedReason = "Restarted"
)

// VirtualMachineStorageNoBootDiskReason: spec.advanced.bootDiskCapacity is
// set but the VM has no disk (a reason of VirtualMachineConditionStorageReady).
const VirtualMachineStorageNoBootDiskReason = "NoBootDisk"

// VirtualMachinePowerOpMode says how a power operation is carried out.
type VirtualMachinePowerOpMode string

// Power operation modes.
const (
	// VirtualMachinePowerOpModeHard: vCenter powers off, suspends or resets.
	VirtualMachinePowerOpModeHard VirtualMachinePowerOpMode = "Hard"
	// VirtualMachinePowerOpModeSoft: the guest shuts down, stands by or
	// reboots through VMware Tools.
	VirtualMachinePowerOpModeSoft VirtualMachinePowerOpMode = "Soft"
	// VirtualMachinePowerOpModeTrySoft: Soft, then Hard if the guest cannot.
	VirtualMachinePowerOpModeTrySoft VirtualMachinePowerOpMode = "TrySoft"
)

// VirtualMachineHardwareVersionNotSupportedReason: the hosts cannot run
// spec.minHardwareVersion (a reason of VirtualMachineConditionCreated).
const VirtualMachineHardwareVersionNotSupportedReason = "HardwareVersionNotSupported"
