package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TanzuKubernetesClusterSpec is the desired cluster.
type TanzuKubernetesClusterSpec struct {
	// Topology is the control-plane and worker pools.
	Topology Topology `json:"topology"`
	// Distribution is the Kubernetes release of the nodes.
	// +optional
	Distribution Distribution `json:"distribution"`
	// Settings configure networking and storage.
	// +optional
	Settings *Settings `json:"settings,omitempty"`
}

// Topology is the cluster's two pools.
type Topology struct {
	// ControlPlane must have 1 or 3 nodes.
	ControlPlane TopologySettings `json:"controlPlane"`
	// Workers are the worker nodes.
	Workers TopologySettings `json:"workers"`
}

// TopologySettings describe the nodes of one pool.
type TopologySettings struct {
	// Count is the number of nodes.
	Count int32 `json:"count"`
	// Class names the VirtualMachineClass of the nodes; it must be bound to
	// the namespace.
	Class string `json:"class"`
	// StorageClass holds the nodes' root disks; the namespace must be
	// allowed to use it.
	StorageClass string `json:"storageClass"`
	// Volumes are PVCs created with each node and mounted before its
	// services start: vSphere 7 U1's separate disks for etcd
	// (/var/lib/etcd) and containerd (/var/lib/containerd).
	// +optional
	Volumes []Volume `json:"volumes,omitempty"`
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

// Distribution names the release of the cluster. The webhook resolves the
// hint (version) to the newest matching release and writes its version to
// fullVersion, so scaling later uses the same release.
type Distribution struct {
	// Version is the full version, e.g. v1.18.20+vmware.1-tkg.1; it may
	// not decrease, keeps its major and goes up one minor at a time.
	// +optional
	Version string `json:"fullVersion,omitempty"`
	// VersionHint is a semantic prefix of the version: v1.18 or v1.18.20
	// match v1.18.20+vmware.1-tkg.1. Remove fullVersion and keep the hint
	// to upgrade to the newest match.
	// +optional
	VersionHint string `json:"version,omitempty"`
}

// TanzuKubernetesCluster is a guest Kubernetes cluster whose nodes are VMs
// of the vSphere Namespace it lives in.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=tanzukubernetesclusters,scope=Namespaced,shortName=tkc
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Control Plane",type=integer,JSONPath=".spec.topology.controlPlane.count"
// +kubebuilder:printcolumn:name="Worker",type=integer,JSONPath=".spec.topology.workers.count"
// +kubebuilder:printcolumn:name="Distribution",type=string,JSONPath=".spec.distribution.fullVersion"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=".status.phase"
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
