package v1alpha3

// TanzuKubernetesClusterPhase is the deprecated one-word state of a cluster.
type TanzuKubernetesClusterPhase string

// Phases.
const (
	PhaseEmpty        TanzuKubernetesClusterPhase = ""
	PhaseCreating     TanzuKubernetesClusterPhase = "creating"
	PhaseFailed       TanzuKubernetesClusterPhase = "failed"
	PhaseRunning      TanzuKubernetesClusterPhase = "running"
	PhaseUnhealthy    TanzuKubernetesClusterPhase = "unhealthy"
	PhaseUpdating     TanzuKubernetesClusterPhase = "updating"
	PhaseUpdateFailed TanzuKubernetesClusterPhase = "updateFailed"
	PhaseDeleting     TanzuKubernetesClusterPhase = "deleting"
)

// AddonType is the kind of an addon.
type AddonType string

// Addon types.
const (
	AddonAuthService   AddonType = "AuthService"
	AddonCNI           AddonType = "CNI"
	AddonCPI           AddonType = "CPI"
	AddonCSI           AddonType = "CSI"
	AddonDNS           AddonType = "DNS"
	AddonProxy         AddonType = "Proxy"
	AddonPSP           AddonType = "PSP"
	AddonMetricsServer AddonType = "MetricsServer"
)

// TanzuKubernetesClusterStatus is the observed state of a cluster.
type TanzuKubernetesClusterStatus struct {
	// APIEndpoints reach the cluster's API server.
	// +optional
	APIEndpoints []APIEndpoint `json:"apiEndpoints,omitempty"`
	// Version is the observed release version; during an upgrade, the one
	// it started from.
	// +optional
	Version string `json:"version,omitempty"`
	// Addons report each addon.
	// +optional
	Addons []AddonStatus `json:"addons,omitempty"`
	// Phase is deprecated in favour of conditions.
	// +optional
	Phase TanzuKubernetesClusterPhase `json:"phase,omitempty"`
	// Conditions: Ready, ControlPlaneReady, NodePoolsReady, AddonsReady, …
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
	// TotalWorkerReplicas is the number of worker nodes of all pools.
	// +optional
	TotalWorkerReplicas int32 `json:"totalWorkerReplicas,omitempty"`
	// VMStatus is the state of each node's VM, by VM name. vSphere shows
	// it in v1alpha1 only; the hub has it so the controller can write it.
	// +optional
	VMStatus map[string]VirtualMachineState `json:"vmStatus,omitempty"`
	// NodeStatus is the readiness of each node, by node name (a node not
	// yet registered is listed by its VM's name as pending). vSphere shows
	// it in v1alpha1 only.
	// +optional
	NodeStatus map[string]NodeStatus `json:"nodeStatus,omitempty"`
}

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

// APIEndpoint is where an API server listens.
type APIEndpoint struct {
	// Host name or address.
	Host string `json:"host"`
	// Port number.
	Port int `json:"port"`
}

// AddonStatus reports one addon.
type AddonStatus struct {
	// Name of the addon.
	Name string `json:"name"`
	// Type of the addon.
	Type AddonType `json:"type"`
	// Version applied.
	// +optional
	Version string `json:"version,omitempty"`
	// Conditions of the addon (Provisioned).
	// +optional
	Conditions Conditions `json:"conditions,omitempty"`
}
