package v1alpha1

// TanzuKubernetesClusterPhase is the one-word state of a cluster.
type TanzuKubernetesClusterPhase string

// Phases.
const (
	PhaseEmpty        TanzuKubernetesClusterPhase = ""
	PhaseCreating     TanzuKubernetesClusterPhase = "creating"
	PhaseRunning      TanzuKubernetesClusterPhase = "running"
	PhaseDeleting     TanzuKubernetesClusterPhase = "deleting"
	PhaseFailed       TanzuKubernetesClusterPhase = "failed"
	PhaseUpdating     TanzuKubernetesClusterPhase = "updating"
	PhaseUpdateFailed TanzuKubernetesClusterPhase = "updateFailed"
)

// VirtualMachineState is the state of a node's VM.
type VirtualMachineState string

// VM states.
const (
	VirtualMachineStateNotFound  VirtualMachineState = "notfound"
	VirtualMachineStatePending   VirtualMachineState = "pending"
	VirtualMachineStateCreated   VirtualMachineState = "created"
	VirtualMachineStatePoweredOn VirtualMachineState = "poweredon"
	VirtualMachineStateReady     VirtualMachineState = "ready"
	VirtualMachineStateDeleting  VirtualMachineState = "deleting"
	VirtualMachineStateError     VirtualMachineState = "error"
)

// NodeStatus is the readiness of a node as the guest cluster sees it.
type NodeStatus string

// Node states.
const (
	NodeStatusPending  NodeStatus = "pending"
	NodeStatusUnknown  NodeStatus = "unknown"
	NodeStatusReady    NodeStatus = "ready"
	NodeStatusNotReady NodeStatus = "notready"
)

// AddonState is how far an addon got.
type AddonState string

// Addon states.
const (
	AddonStatePending   AddonState = "pending"
	AddonStateError     AddonState = "error"
	AddonStateApplied   AddonState = "applied"
	AddonStateUnmanaged AddonState = "unmanaged"
)

// TanzuKubernetesClusterStatus is the observed state of a cluster.
type TanzuKubernetesClusterStatus struct {
	// ClusterAPIStatus abridges the Cluster API Cluster's status.
	// +optional
	ClusterAPIStatus *ClusterAPIStatus `json:"clusterApiStatus,omitempty"`
	// VMStatus is the state of each node's VM, by VM name.
	// +optional
	VMStatus map[string]VirtualMachineState `json:"vmStatus,omitempty"`
	// NodeStatus is the readiness of each node, by node name.
	// +optional
	NodeStatus map[string]NodeStatus `json:"nodeStatus,omitempty"`
	// Upgrade is deprecated and never updated.
	// +optional
	Upgrade *UpgradeStatus `json:"upgrade,omitempty"`
	// Version is the observed release version.
	// +optional
	Version string `json:"version,omitempty"`
	// Addons report each addon.
	// +optional
	Addons *AddonsStatuses `json:"addons,omitempty"`
	// Phase of the cluster.
	// +optional
	Phase TanzuKubernetesClusterPhase `json:"phase,omitempty"`
	// NodeRemediationCount is the number of nodes replaced automatically.
	// +optional
	NodeRemediationCount int `json:"nodeRemediationCount,omitempty"`
}

// ClusterAPIStatus is the abridged status of the Cluster API Cluster.
type ClusterAPIStatus struct {
	// APIEndpoints reach the cluster's API server.
	// +optional
	APIEndpoints []APIEndpoint `json:"apiEndpoints,omitempty"`
	// ErrorReason is a machine-readable error.
	// +optional
	ErrorReason *string `json:"errorReason,omitempty"`
	// ErrorMessage is a human-readable error.
	// +optional
	ErrorMessage *string `json:"errorMessage,omitempty"`
	// Phase of the Cluster API Cluster.
	// +optional
	Phase string `json:"phase,omitempty"`
}

// APIEndpoint is where an API server listens.
type APIEndpoint struct {
	// Host name or address.
	Host string `json:"host"`
	// Port number.
	Port int `json:"port"`
}

// UpgradeStatus is a deprecated record of an upgrade.
type UpgradeStatus struct {
	// ToVersion is the target version.
	// +optional
	ToVersion string `json:"toVersion,omitempty"`
	// Phase of the upgrade.
	// +optional
	Phase string `json:"phase,omitempty"`
	// UpgradeID identifies the upgrade.
	// +optional
	UpgradeID string `json:"upgradeId,omitempty"`
	// Done says whether the upgrade finished.
	// +optional
	Done bool `json:"done,omitempty"`
	// Errors of the upgrade.
	// +optional
	Errors []UpgradeError `json:"errors,omitempty"`
}

// UpgradeError is one error of an upgrade.
type UpgradeError struct {
	// Message of the error.
	Message string `json:"message"`
}

// AddonsStatuses report the addons v1alpha1 knows, one field each.
type AddonsStatuses struct {
	// DNS addon.
	// +optional
	DNS *AddonStatus `json:"dns,omitempty"`
	// Proxy addon.
	// +optional
	Proxy *AddonStatus `json:"proxy,omitempty"`
	// PSP is the default pod security policies.
	// +optional
	PSP *AddonStatus `json:"psp,omitempty"`
	// CNI addon.
	// +optional
	CNI *AddonStatus `json:"cni,omitempty"`
	// CSI addon.
	// +optional
	CSI *AddonStatus `json:"csi,omitempty"`
	// CloudProvider is the cloud provider interface.
	// +optional
	CloudProvider *AddonStatus `json:"cloudprovider,omitempty"`
	// AuthService addon.
	// +optional
	AuthService *AddonStatus `json:"authsvc,omitempty"`
}

// AddonStatus reports one addon.
type AddonStatus struct {
	// Name of the addon.
	Name string `json:"name"`
	// Status of the addon.
	Status AddonState `json:"status"`
	// Version applied.
	// +optional
	Version string `json:"version,omitempty"`
	// LastErrorMessage is the last error applying the addon.
	// +optional
	LastErrorMessage string `json:"lastErrorMessage,omitempty"`
}
