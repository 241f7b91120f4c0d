package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Access roles and subject types of a vSphere Namespace's access list.
const (
	RoleOwner = "OWNER"
	RoleEdit  = "EDIT"
	RoleView  = "VIEW"

	SubjectTypeUser  = "USER"
	SubjectTypeGroup = "GROUP"
)

// Condition types of a VSphereNamespace.
const (
	// NamespaceConfiguredCondition: the Kubernetes namespace and everything
	// the spec binds to it (classes, storage, quotas, role bindings) exist.
	NamespaceConfiguredCondition = "Configured"
)

// Access grants a vCenter user or group a role in a vSphere Namespace.
type Access struct {
	// SubjectType is USER or GROUP.
	// +kubebuilder:validation:Enum=USER;GROUP
	SubjectType string `json:"subjectType"`
	// Subject is the user or group name without its domain.
	Subject string `json:"subject"`
	// Domain is the identity source (vsphere.local).
	Domain string `json:"domain"`
	// Role is OWNER, EDIT or VIEW.
	// +kubebuilder:validation:Enum=OWNER;EDIT;VIEW
	Role string `json:"role"`
}

// StorageSpec makes a storage policy usable in the namespace.
type StorageSpec struct {
	// Policy is the storage policy id (PBM profile UUID).
	Policy string `json:"policy"`
	// LimitMiB caps the storage requested through the policy's class; unset
	// or 0 is no limit.
	// +optional
	LimitMiB *int64 `json:"limitMiB,omitempty"`
}

// VMServiceSpec names the VM classes and content libraries the namespace
// may use.
type VMServiceSpec struct {
	// +optional
	VMClasses []string `json:"vmClasses,omitempty"`
	// +optional
	ContentLibraries []string `json:"contentLibraries,omitempty"`
}

// ResourceSpec is the namespace's CPU and memory limits.
type ResourceSpec struct {
	// CPULimitMHz caps CPU.
	// +optional
	CPULimitMHz *int64 `json:"cpuLimitMHz,omitempty"`
	// MemoryLimitMiB caps memory.
	// +optional
	MemoryLimitMiB *int64 `json:"memoryLimitMiB,omitempty"`
	// StorageRequestLimitMiB caps all storage requests together.
	// +optional
	StorageRequestLimitMiB *int64 `json:"storageRequestLimitMiB,omitempty"`
}

// VSphereNamespaceSpec is Namespaces.Instances.CreateSpec.
type VSphereNamespaceSpec struct {
	// Cluster is the Supervisor's vSphere cluster (domain-c8).
	Cluster string `json:"cluster"`
	// +optional
	Description string `json:"description,omitempty"`
	// +optional
	AccessList []Access `json:"accessList,omitempty"`
	// +optional
	StorageSpecs []StorageSpec `json:"storageSpecs,omitempty"`
	// +optional
	VMServiceSpec VMServiceSpec `json:"vmServiceSpec,omitempty"`
	// +optional
	ResourceSpec ResourceSpec `json:"resourceSpec,omitempty"`
	// Networks are workload network names; the primary when empty.
	// +optional
	Networks []string `json:"networks,omitempty"`
}

// VSphereNamespaceStatus is Namespaces.Instances.Info's status part.
type VSphereNamespaceStatus struct {
	// ConfigStatus is CONFIGURING, RUNNING, REMOVING or ERROR.
	// +optional
	ConfigStatus string `json:"configStatus,omitempty"`
	// +optional
	Messages []Message `json:"messages,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VSphereNamespace is a vSphere Namespace: a Kubernetes namespace of the
// same name with the classes, storage, quotas and access its spec grants.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=vns
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".spec.cluster"
// +kubebuilder:printcolumn:name="Config",type="string",JSONPath=".status.configStatus"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type VSphereNamespace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VSphereNamespaceSpec   `json:"spec,omitempty"`
	Status VSphereNamespaceStatus `json:"status,omitempty"`
}

// GetConditions returns the namespace's conditions.
func (n *VSphereNamespace) GetConditions() []metav1.Condition { return n.Status.Conditions }

// SetConditions sets the namespace's conditions.
func (n *VSphereNamespace) SetConditions(c []metav1.Condition) { n.Status.Conditions = c }

// VSphereNamespaceList is a list of VSphereNamespaces.
//
// +kubebuilder:object:root=true
type VSphereNamespaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VSphereNamespace `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VSphereNamespace{}, &VSphereNamespaceList{})
}

// Namespaces and labels shared by the REST API and the controllers.
const (
	// VMClassCatalogNamespace holds the vCenter-wide VM classes
	// (namespace-management/virtual-machine-classes); a vSphere Namespace
	// gets a copy of each class its vm_service_spec names.
	VMClassCatalogNamespace = "vmware-system-vmop"
	// SupervisorSystemNamespace holds the Supervisor's own objects: the
	// HAProxy credentials Secret, the endpoint's CA.
	SupervisorSystemNamespace = "vmware-system-supervisor"
	// VSphereNamespaceLabel marks a Kubernetes namespace as a vSphere
	// Namespace (the same key controllers/namespace has always used).
	VSphereNamespaceLabel = "vsphere.opensupervisor.io/vsphere-namespace"
	// NamespaceNetworksAnnotation on a vSphere Namespace's Kubernetes
	// namespace lists, comma-separated, the WorkloadNetworks its VMs may
	// use; the first is where a VM that names none goes.
	NamespaceNetworksAnnotation = "vsphere.opensupervisor.io/networks"
	// SupervisorLabel marks, with the Supervisor's name, what is made for
	// a Supervisor outside its owner references (StorageClasses, the Data
	// Plane API credentials): disabling deletes what carries it.
	SupervisorLabel = "vsphere.opensupervisor.io/supervisor"
)

// How vCenter SSO principals appear in Kubernetes: the login service's
// tokens name them, kube-apiserver's claim mappings prefix them, and the
// RoleBindings of vSphere Namespaces' access lists bind the same names.
const (
	// SSONamePrefix starts the Kubernetes user and group names of SSO
	// principals: user alice@vsphere.local is sso:alice@vsphere.local.
	SSONamePrefix = "sso:"
	// SSODefaultDomain is vCenter's SSO domain.
	SSODefaultDomain = "vsphere.local"
	// AdministratorsGroup is vCenter's Administrators group (its name in
	// SSODefaultDomain): its members may edit every vSphere Namespace.
	AdministratorsGroup = "Administrators"
)
