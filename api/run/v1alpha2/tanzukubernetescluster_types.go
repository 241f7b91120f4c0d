package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TanzuKubernetesClusterSpec is the desired cluster: its nodes and settings.
type TanzuKubernetesClusterSpec struct {
	// Topology is the control plane and the worker node pools.
	Topology Topology `json:"topology"`
	// Distribution is the Kubernetes release of all nodes.
	// Deprecated: use topology.controlPlane.tkr and topology.nodePools[].tkr.
	// +optional
	Distribution Distribution `json:"distribution,omitempty"`
	// Settings configure networking and storage.
	// +optional
	Settings *Settings `json:"settings,omitempty"`
}

// Distribution names the release of a cluster by version. The webhook
// resolves the hint to the newest matching release, writes its version to
// fullVersion and its name to the tkr references.
type Distribution struct {
	// Version is the full version, e.g. v1.21.14+vmware.1-tkg.1; it may
	// not decrease, keeps its major and goes up one minor at a time.
	// +optional
	Version string `json:"fullVersion,omitempty"`
	// VersionHint is a semantic prefix of the version, e.g. v1.21; remove
	// fullVersion and keep the hint to upgrade to the newest match.
	// +optional
	VersionHint string `json:"version,omitempty"`
}

// Topology is the cluster's node pools.
type Topology struct {
	// ControlPlane is the control-plane pool; it must have 1 or 3 nodes.
	ControlPlane TopologySettings `json:"controlPlane"`
	// NodePools are the worker pools.
	// +optional
	NodePools []NodePool `json:"nodePools"`
}

// NodePool is a named, homogeneous group of worker nodes.
type NodePool struct {
	// Name of the pool, unique in the cluster.
	Name string `json:"name"`
	// Labels propagate to the pool's Nodes.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Taints propagate to the pool's Nodes.
	// +optional
	Taints []corev1.Taint `json:"taints,omitempty"`

	TopologySettings `json:",inline"`
}

// TopologySettings describe the nodes of one pool.
type TopologySettings struct {
	// Replicas is the number of nodes. The control plane defaults to 1; a
	// node pool without replicas is left to an autoscaler.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// VMClass names the VirtualMachineClass of the nodes; it must be bound
	// to the namespace.
	VMClass string `json:"vmClass"`
	// StorageClass holds the nodes' root disks; the namespace must be
	// allowed to use it.
	StorageClass string `json:"storageClass"`
	// Volumes are PVCs created with each node and mounted before its
	// services (etcd, containerd) start.
	// +optional
	Volumes []Volume `json:"volumes,omitempty"`
	// TKR is the TanzuKubernetesRelease of the nodes.
	// +optional
	TKR TKRReference `json:"tkr,omitempty"`
	// NodeDrainTimeout bounds draining a node; 0 waits forever.
	// +optional
	NodeDrainTimeout *metav1.Duration `json:"nodeDrainTimeout,omitempty"`
}

// Volume is a PVC attached to each node of a pool, named <node>-<name>.
type Volume struct {
	// Name is the suffix of the PVC's name.
	Name string `json:"name"`
	// MountPath is where the volume is mounted in the node.
	MountPath string `json:"mountPath"`
	// Capacity of the PVC.
	Capacity corev1.ResourceList `json:"capacity"`
	// StorageClass of the PVC; defaults to the pool's.
	// +optional
	StorageClass string `json:"storageClass,omitempty"`
}

// TKRReference names a TanzuKubernetesRelease.
type TKRReference struct {
	// Reference to the release; its name is the release's object name.
	// +optional
	Reference *corev1.ObjectReference `json:"reference,omitempty"`
}

// TanzuKubernetesCluster is a guest Kubernetes cluster whose nodes are VMs
// of the vSphere Namespace it lives in.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=tanzukubernetesclusters,scope=Namespaced,shortName=tkc
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Control Plane",type=integer,JSONPath=".spec.topology.controlPlane.replicas"
// +kubebuilder:printcolumn:name="Worker",type=integer,JSONPath=".status.totalWorkerReplicas"
// +kubebuilder:printcolumn:name="TKR Name",type=string,JSONPath=".spec.topology.controlPlane.tkr.reference.name"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type=='Ready')].status"
// +kubebuilder:printcolumn:name="TKR Compatible",type=string,JSONPath=".status.conditions[?(@.type=='TanzuKubernetesReleaseCompatible')].status"
// +kubebuilder:printcolumn:name="Updates Available",type=string,JSONPath=".status.conditions[?(@.type=='UpdatesAvailable')].message"
type TanzuKubernetesCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TanzuKubernetesClusterSpec   `json:"spec,omitempty"`
	Status TanzuKubernetesClusterStatus `json:"status,omitempty"`
}

// TanzuKubernetesClusterList is a list of TanzuKubernetesClusters.
//
// +kubebuilder:object:root=true
type TanzuKubernetesClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TanzuKubernetesCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TanzuKubernetesCluster{}, &TanzuKubernetesClusterList{})
}
