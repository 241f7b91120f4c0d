package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Workload Management's config_status and kubernetes_status values, as
// vCenter's namespace-management API reports them.
const (
	ConfigStatusConfiguring = "CONFIGURING"
	ConfigStatusRemoving    = "REMOVING"
	ConfigStatusRunning     = "RUNNING"
	ConfigStatusError       = "ERROR"

	KubernetesStatusReady   = "READY"
	KubernetesStatusWarning = "WARNING"
	KubernetesStatusError   = "ERROR"
)

// Condition types of a Supervisor.
const (
	// SupervisorLoadBalancerReadyCondition: the HAProxy Data Plane API of
	// the enable spec answers and the endpoint VIP is programmed.
	SupervisorLoadBalancerReadyCondition = "LoadBalancerReady"
	// SupervisorNetworkReadyCondition: the primary workload network exists.
	SupervisorNetworkReadyCondition = "WorkloadNetworkReady"
	// SupervisorStorageReadyCondition: every storage policy has its
	// StorageClass.
	SupervisorStorageReadyCondition = "StorageReady"
	// SupervisorControlPlaneReadyCondition: the control-plane VMs run on
	// the management network and the API server is ready.
	SupervisorControlPlaneReadyCondition = "ControlPlaneReady"
)

// ControlPlaneVMCount is how many control-plane VMs a supervisor runs,
// as on vSphere.
const ControlPlaneVMCount = 3

// ControlPlaneSize is the size of each control-plane VM for a size_hint.
//
// +kubebuilder:object:generate=false
type ControlPlaneSize struct {
	CPUs       int32
	MemoryMiB  int64
	StorageMiB int64
}

// ControlPlaneSizes are the control-plane VM sizes per size_hint, as
// vSphere 7 sizes them (cluster-size-info).
var ControlPlaneSizes = map[string]ControlPlaneSize{
	"TINY":   {CPUs: 2, MemoryMiB: 8192, StorageMiB: 32768},
	"SMALL":  {CPUs: 4, MemoryMiB: 16384, StorageMiB: 32768},
	"MEDIUM": {CPUs: 8, MemoryMiB: 16384, StorageMiB: 32768},
	"LARGE":  {CPUs: 16, MemoryMiB: 32768, StorageMiB: 32768},
}

// AddressRange is a first address and a count, as the enable spec gives
// VIP and workload ranges.
type AddressRange struct {
	// Address is the first address of the range.
	Address string `json:"address"`
	// Count is how many consecutive addresses the range holds.
	// +kubebuilder:validation:Minimum=1
	Count int32 `json:"count"`
}

// ManagementAddressRange is the static range of the control-plane VMs on
// the management network.
type ManagementAddressRange struct {
	StartingAddress string `json:"startingAddress"`
	AddressCount    int32  `json:"addressCount"`
	SubnetMask      string `json:"subnetMask"`
	Gateway         string `json:"gateway"`
}

// ManagementNetwork is the enable spec's master_management_network.
type ManagementNetwork struct {
	// Mode is STATICRANGE or DHCP.
	Mode string `json:"mode"`
	// Network is the portgroup's managed object id (dvportgroup-21).
	Network string `json:"network"`
	// +optional
	FloatingIP string `json:"floatingIP,omitempty"`
	// +optional
	AddressRange *ManagementAddressRange `json:"addressRange,omitempty"`
}

// SupervisorWorkloadNetwork is the enable spec's
// supervisor_primary_workload_network with vSphere networking.
type SupervisorWorkloadNetwork struct {
	// Name is the DNS-label name the admin chose (network-1); the
	// WorkloadNetwork object of that name is created from it.
	Name string `json:"name"`
	// PortGroup is the distributed portgroup's managed object id.
	PortGroup     string         `json:"portGroup"`
	Gateway       string         `json:"gateway"`
	SubnetMask    string         `json:"subnetMask"`
	AddressRanges []AddressRange `json:"addressRanges"`
}

// DataPlaneAPIServer is one HAProxy Data Plane API endpoint.
type DataPlaneAPIServer struct {
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// SupervisorLoadBalancer is the enable spec's load_balancer_config_spec
// with provider HA_PROXY. The password is kept in CredentialsSecret, never
// here.
type SupervisorLoadBalancer struct {
	// ID is the DNS-label id the admin chose (haproxy).
	ID string `json:"id"`
	// Provider is HA_PROXY.
	Provider string `json:"provider"`
	// AddressRanges are the VIPs; the first is the supervisor's endpoint.
	AddressRanges []AddressRange       `json:"addressRanges"`
	Servers       []DataPlaneAPIServer `json:"servers"`
	Username      string               `json:"username"`
	// CredentialsSecret names the Secret in the supervisor's system
	// namespace holding username and password.
	CredentialsSecret         string `json:"credentialsSecret"`
	CertificateAuthorityChain string `json:"certificateAuthorityChain"`
}

// SupervisorSpec is what a vSphere admin asked for when enabling Workload
// Management on a vSphere cluster (Clusters.EnableSpec, 7.0U1–U3, vSphere
// networking with HAProxy).
type SupervisorSpec struct {
	// ClusterName is the vSphere cluster's name as vCenter shows it.
	ClusterName string `json:"clusterName"`
	// SizeHint is TINY, SMALL, MEDIUM or LARGE.
	SizeHint string `json:"sizeHint"`
	// ServiceCIDR is the supervisor's Service range, e.g. 10.96.0.0/23.
	ServiceCIDR string `json:"serviceCIDR"`
	// NetworkProvider is VSPHERE_NETWORK.
	NetworkProvider   string            `json:"networkProvider"`
	ManagementNetwork ManagementNetwork `json:"managementNetwork"`
	// +optional
	MasterDNS []string `json:"masterDNS,omitempty"`
	// +optional
	MasterDNSSearchDomains []string `json:"masterDNSSearchDomains,omitempty"`
	// +optional
	MasterNTPServers []string `json:"masterNTPServers,omitempty"`
	// MasterDNSNames go into the endpoint's certificate.
	// +optional
	MasterDNSNames []string `json:"masterDNSNames,omitempty"`
	// +optional
	WorkerDNS []string `json:"workerDNS,omitempty"`
	// +optional
	WorkloadNTPServers []string                  `json:"workloadNTPServers,omitempty"`
	WorkloadNetwork    SupervisorWorkloadNetwork `json:"workloadNetwork"`
	// AdditionalWorkloadNetworks are the enable spec's network_list and
	// the networks created after enable; vSphere Namespaces may use them.
	// +optional
	AdditionalWorkloadNetworks []SupervisorWorkloadNetwork `json:"additionalWorkloadNetworks,omitempty"`
	LoadBalancer               SupervisorLoadBalancer      `json:"loadBalancer"`
	// Storage policy ids (PBM profile UUIDs).
	MasterStoragePolicy    string `json:"masterStoragePolicy"`
	EphemeralStoragePolicy string `json:"ephemeralStoragePolicy"`
	ImageStoragePolicy     string `json:"imageStoragePolicy"`
	// DefaultKubernetesServiceContentLibrary is the content library id
	// releases come from.
	// +optional
	DefaultKubernetesServiceContentLibrary string `json:"defaultKubernetesServiceContentLibrary,omitempty"`
	// LoginBanner is shown before kubectl vsphere login.
	// +optional
	LoginBanner string `json:"loginBanner,omitempty"`
}

// WorkloadNetworks are the primary workload network and the additional
// ones, in that order.
func (s *SupervisorSpec) WorkloadNetworks() []SupervisorWorkloadNetwork {
	return append([]SupervisorWorkloadNetwork{s.WorkloadNetwork}, s.AdditionalWorkloadNetworks...)
}

// Message is a status message as vCenter reports it.
type Message struct {
	// Severity is INFO, WARNING or ERROR.
	Severity string `json:"severity"`
	// ID is a stable message id (vcenter.wcp.…).
	ID             string `json:"id"`
	DefaultMessage string `json:"defaultMessage"`
	// +optional
	Args []string `json:"args,omitempty"`
}

// SupervisorStatus is Clusters.Info's status part.
type SupervisorStatus struct {
	// +optional
	ConfigStatus string `json:"configStatus,omitempty"`
	// +optional
	KubernetesStatus string `json:"kubernetesStatus,omitempty"`
	// +optional
	Messages []Message `json:"messages,omitempty"`
	// +optional
	KubernetesStatusMessages []Message `json:"kubernetesStatusMessages,omitempty"`
	// APIServerClusterEndpoint is the endpoint VIP users log in to.
	// +optional
	APIServerClusterEndpoint string `json:"apiServerClusterEndpoint,omitempty"`
	// APIServerManagementEndpoint is the control plane's floating address
	// on the management network.
	// +optional
	APIServerManagementEndpoint string `json:"apiServerManagementEndpoint,omitempty"`
	// APIServers are the control-plane VMs' management addresses.
	// +optional
	APIServers []string `json:"apiServers,omitempty"`
	// TLSEndpointCertificate is the PEM certificate the endpoint serves.
	// +optional
	TLSEndpointCertificate string `json:"tlsEndpointCertificate,omitempty"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Supervisor is Workload Management enabled on one vSphere cluster. Its name
// is the cluster's managed object id (domain-c8).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:printcolumn:name="Cluster",type="string",JSONPath=".spec.clusterName"
// +kubebuilder:printcolumn:name="Config",type="string",JSONPath=".status.configStatus"
// +kubebuilder:printcolumn:name="Kubernetes",type="string",JSONPath=".status.kubernetesStatus"
// +kubebuilder:printcolumn:name="Endpoint",type="string",JSONPath=".status.apiServerClusterEndpoint"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type Supervisor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SupervisorSpec   `json:"spec,omitempty"`
	Status SupervisorStatus `json:"status,omitempty"`
}

// GetConditions returns the Supervisor's conditions (Cluster API's patch
// helper and conditions utilities).
func (s *Supervisor) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions sets the Supervisor's conditions.
func (s *Supervisor) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// SupervisorList is a list of Supervisors.
//
// +kubebuilder:object:root=true
type SupervisorList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Supervisor `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Supervisor{}, &SupervisorList{})
}
