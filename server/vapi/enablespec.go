package vapi

// The wire types of Clusters.EnableSpec (7.0U1–U3, vSphere networking with
// HAProxy) and Clusters.Info, with vCenter's field names, mixed case
// included. Hand-written: govmomi's vapi/namespace types lack Info, the
// network list and parts of the spec, and print the spec on enable.

// CIDR is an address and a prefix length.
type CIDR struct {
	Address string `json:"address"`
	Prefix  int    `json:"prefix"`
}

// IPRange is a first address and a count.
type IPRange struct {
	Address string `json:"address"`
	Count   int    `json:"count"`
}

// AddressRange is the management network's static range.
type AddressRange struct {
	StartingAddress string `json:"starting_address"`
	AddressCount    int    `json:"address_count"`
	SubnetMask      string `json:"subnet_mask"`
	Gateway         string `json:"gateway"`
}

// MasterManagementNetwork is master_management_network.
type MasterManagementNetwork struct {
	Mode         string        `json:"mode"`
	Network      string        `json:"network"`
	FloatingIP   string        `json:"floating_IP,omitempty"`
	AddressRange *AddressRange `json:"address_range,omitempty"`
}

// VSphereNetwork is a workload network's vsphere_network.
type VSphereNetwork struct {
	Portgroup        string    `json:"portgroup"`
	Gateway          string    `json:"gateway"`
	SubnetMask       string    `json:"subnet_mask"`
	AddressRanges    []IPRange `json:"address_ranges"`
	IPAssignmentMode string    `json:"ip_assignment_mode,omitempty"`
}

// NetworkSpec is Networks.CreateSpec.
type NetworkSpec struct {
	Network         string          `json:"network"`
	NetworkProvider string          `json:"network_provider"`
	VSphereNetwork  *VSphereNetwork `json:"vsphere_network,omitempty"`
}

// WorkloadNetworksSpec is workload_networks_spec.
type WorkloadNetworksSpec struct {
	SupervisorPrimaryWorkloadNetwork *NetworkSpec  `json:"supervisor_primary_workload_network"`
	NetworkList                      []NetworkSpec `json:"network_list,omitempty"`
}

// HAProxyServer is a Data Plane API endpoint.
type HAProxyServer struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// HAProxyCreateSpec is ha_proxy_config_create_spec.
type HAProxyCreateSpec struct {
	Servers                   []HAProxyServer `json:"servers"`
	Username                  string          `json:"username"`
	Password                  string          `json:"password"`
	CertificateAuthorityChain string          `json:"certificate_authority_chain"`
}

// LoadBalancerSpec is load_balancer_config_spec.
type LoadBalancerSpec struct {
	ID                      string             `json:"id"`
	Provider                string             `json:"provider"`
	AddressRanges           []IPRange          `json:"address_ranges"`
	HAProxyConfigCreateSpec *HAProxyCreateSpec `json:"ha_proxy_config_create_spec,omitempty"`
	AviConfigCreateSpec     map[string]any     `json:"avi_config_create_spec,omitempty"`
}

// ImageStorage is image_storage.
type ImageStorage struct {
	StoragePolicy string `json:"storage_policy"`
}

// EnableSpec is Clusters.EnableSpec.
type EnableSpec struct {
	SizeHint                               string                   `json:"size_hint"`
	ServiceCIDR                            *CIDR                    `json:"service_cidr"`
	NetworkProvider                        string                   `json:"network_provider"`
	NCPClusterNetworkSpec                  map[string]any           `json:"ncp_cluster_network_spec,omitempty"`
	WorkloadNetworksSpec                   *WorkloadNetworksSpec    `json:"workload_networks_spec,omitempty"`
	WorkloadNTPServers                     []string                 `json:"workload_ntp_servers,omitempty"`
	LoadBalancerConfigSpec                 *LoadBalancerSpec        `json:"load_balancer_config_spec,omitempty"`
	MasterManagementNetwork                *MasterManagementNetwork `json:"master_management_network"`
	MasterDNS                              []string                 `json:"master_DNS,omitempty"`
	WorkerDNS                              []string                 `json:"worker_DNS,omitempty"`
	MasterDNSSearchDomains                 []string                 `json:"master_DNS_search_domains,omitempty"`
	MasterNTPServers                       []string                 `json:"master_NTP_servers,omitempty"`
	MasterDNSNames                         []string                 `json:"Master_DNS_names,omitempty"`
	MasterStoragePolicy                    string                   `json:"master_storage_policy"`
	EphemeralStoragePolicy                 string                   `json:"ephemeral_storage_policy"`
	ImageStorage                           *ImageStorage            `json:"image_storage"`
	DefaultKubernetesServiceContentLibrary string                   `json:"default_kubernetes_service_content_library,omitempty"`
	LoginBanner                            string                   `json:"login_banner,omitempty"`
	DefaultImageRegistry                   map[string]any           `json:"default_image_registry,omitempty"`
	DefaultImageRepository                 string                   `json:"default_image_repository,omitempty"`
	ClusterProxyConfig                     map[string]any           `json:"cluster_proxy_config,omitempty"`
}

// UpdateSpec is Clusters.UpdateSpec: what may change after enable.
type UpdateSpec struct {
	MasterDNS                              []string       `json:"master_DNS,omitempty"`
	WorkerDNS                              []string       `json:"worker_DNS,omitempty"`
	MasterDNSSearchDomains                 []string       `json:"master_DNS_search_domains,omitempty"`
	MasterNTPServers                       []string       `json:"master_NTP_servers,omitempty"`
	MasterDNSNames                         []string       `json:"Master_DNS_names,omitempty"`
	WorkloadNTPServers                     []string       `json:"workload_ntp_servers,omitempty"`
	LoginBanner                            *string        `json:"login_banner,omitempty"`
	SizeHint                               string         `json:"size_hint,omitempty"`
	DefaultKubernetesServiceContentLibrary string         `json:"default_kubernetes_service_content_library,omitempty"`
	ClusterProxyConfig                     map[string]any `json:"cluster_proxy_config,omitempty"`
	DefaultImageRegistry                   map[string]any `json:"default_image_registry,omitempty"`
}

// Stats are a cluster's resource figures.
type Stats struct {
	CPUUsed         int64 `json:"cpu_used"`
	CPUCapacity     int64 `json:"cpu_capacity"`
	MemoryUsed      int64 `json:"memory_used"`
	MemoryCapacity  int64 `json:"memory_capacity"`
	StorageUsed     int64 `json:"storage_used"`
	StorageCapacity int64 `json:"storage_capacity"`
}

// ClusterSummary is Clusters.Summary.
type ClusterSummary struct {
	Cluster          string `json:"cluster"`
	ClusterName      string `json:"cluster_name"`
	Stats            Stats  `json:"stats"`
	ConfigStatus     string `json:"config_status"`
	KubernetesStatus string `json:"kubernetes_status"`
}

// StatusMessage is a Clusters.Info message.
type StatusMessage struct {
	Severity string         `json:"severity"`
	Details  MessageDetails `json:"details"`
}

// MessageDetails is a localizable message inside a status message.
type MessageDetails struct {
	ID             string   `json:"id"`
	DefaultMessage string   `json:"default_message"`
	Args           []string `json:"args"`
}

// HAProxyInfo is a load balancer's ha_proxy_info: the create spec
// without the password.
type HAProxyInfo struct {
	Servers                   []HAProxyServer `json:"servers"`
	Username                  string          `json:"username"`
	CertificateAuthorityChain string          `json:"certificate_authority_chain"`
}

// LoadBalancerInfo is a load_balancers entry.
type LoadBalancerInfo struct {
	ID            string       `json:"id"`
	Provider      string       `json:"provider"`
	AddressRanges []IPRange    `json:"address_ranges"`
	HAProxyInfo   *HAProxyInfo `json:"ha_proxy_info,omitempty"`
}

// WorkloadNetworksInfo is Info's workload_networks.
type WorkloadNetworksInfo struct {
	SupervisorPrimaryWorkloadNetwork NetworkSpec `json:"supervisor_primary_workload_network"`
}

// ClusterInfo is Clusters.Info.
type ClusterInfo struct {
	SizeHint                               string                  `json:"size_hint"`
	StatSummary                            Stats                   `json:"stat_summary"`
	ConfigStatus                           string                  `json:"config_status"`
	Messages                               []StatusMessage         `json:"messages"`
	KubernetesStatus                       string                  `json:"kubernetes_status"`
	KubernetesStatusMessages               []StatusMessage         `json:"kubernetes_status_messages"`
	APIServerManagementEndpoint            string                  `json:"api_server_management_endpoint,omitempty"`
	APIServerClusterEndpoint               string                  `json:"api_server_cluster_endpoint"`
	APIServers                             []string                `json:"api_servers"`
	TLSEndpointCertificate                 string                  `json:"tls_endpoint_certificate"`
	NetworkProvider                        string                  `json:"network_provider"`
	WorkloadNetworks                       *WorkloadNetworksInfo   `json:"workload_networks,omitempty"`
	LoadBalancers                          []LoadBalancerInfo      `json:"load_balancers"`
	ServiceCIDR                            CIDR                    `json:"service_cidr"`
	MasterManagementNetwork                MasterManagementNetwork `json:"master_management_network"`
	MasterDNS                              []string                `json:"master_DNS"`
	WorkerDNS                              []string                `json:"worker_DNS"`
	MasterDNSSearchDomains                 []string                `json:"master_DNS_search_domains"`
	MasterNTPServers                       []string                `json:"master_NTP_servers"`
	MasterDNSNames                         []string                `json:"Master_DNS_names"`
	WorkloadNTPServers                     []string                `json:"workload_ntp_servers"`
	MasterStoragePolicy                    string                  `json:"master_storage_policy"`
	EphemeralStoragePolicy                 string                  `json:"ephemeral_storage_policy"`
	ImageStorage                           ImageStorage            `json:"image_storage"`
	DefaultKubernetesServiceContentLibrary string                  `json:"default_kubernetes_service_content_library"`
	LoginBanner                            string                  `json:"login_banner"`
}
