package vapi

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sort"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// vcCluster is a vSphere cluster as vCenter has it.
type vcCluster struct {
	ID, Name string
	Hosts    int
	Stats    Stats
}

// vcenterClusters reads every ClusterComputeResource.
func (s *Server) vcenterClusters(ctx context.Context) ([]vcCluster, error) {
	vc, err := s.opts.VCenterClient(ctx)
	if err != nil {
		return nil, err
	}
	m := view.NewManager(vc)
	v, err := m.CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{"ClusterComputeResource"}, true)
	if err != nil {
		return nil, fmt.Errorf("failed to list vCenter's clusters: %w", err)
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	var ccrs []mo.ClusterComputeResource
	if err := v.Retrieve(ctx, []string{"ClusterComputeResource"}, []string{"name", "summary", "host"}, &ccrs); err != nil {
		return nil, fmt.Errorf("failed to read vCenter's clusters: %w", err)
	}
	out := make([]vcCluster, 0, len(ccrs))
	for _, c := range ccrs {
		cl := vcCluster{ID: c.Self.Value, Name: c.Name, Hosts: len(c.Host)}
		if sum := c.Summary.GetComputeResourceSummary(); sum != nil {
			cl.Stats = Stats{
				CPUCapacity: int64(sum.TotalCpu), CPUUsed: int64(sum.TotalCpu - sum.EffectiveCpu),
				MemoryCapacity: sum.TotalMemory >> 20, MemoryUsed: sum.TotalMemory>>20 - sum.EffectiveMemory,
			}
			if cl.Stats.CPUUsed < 0 {
				cl.Stats.CPUUsed = 0
			}
			if cl.Stats.MemoryUsed < 0 {
				cl.Stats.MemoryUsed = 0
			}
		}
		out = append(out, cl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// findCluster finds cluster id in vCenter: not_found when it has none.
func (s *Server) findCluster(ctx context.Context, id string) (vcCluster, error) {
	all, err := s.vcenterClusters(ctx)
	if err != nil {
		return vcCluster{}, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
	}
	return vcCluster{}, newError(errNotFound, "vcenter.wcp.cluster.notfound", "vCenter has no cluster %s", id)
}

// supervisor reads the Supervisor of cluster id: not_found when Workload
// Management is not enabled there.
func (s *Server) supervisor(ctx context.Context, id string) (*vspherev1.Supervisor, error) {
	sup := &vspherev1.Supervisor{}
	err := s.opts.Client.Get(ctx, client.ObjectKey{Name: id}, sup)
	if apierrors.IsNotFound(err) {
		return nil, newError(errNotFound, "vcenter.wcp.cluster.notenabled", "Workload Management is not enabled on cluster %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the Supervisor of %s: %w", id, err)
	}
	return sup, nil
}

// listClusters: the clusters Workload Management is enabled on.
func (s *Server) listClusters(w http.ResponseWriter, r *http.Request) {
	var sups vspherev1.SupervisorList
	if err := s.opts.Client.List(r.Context(), &sups); err != nil {
		writeError(w, r, fmt.Errorf("failed to list Supervisors: %w", err))
		return
	}
	clusters, err := s.vcenterClusters(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	stats := map[string]Stats{}
	for _, c := range clusters {
		stats[c.ID] = c.Stats
	}
	out := make([]ClusterSummary, 0, len(sups.Items))
	for _, sup := range sups.Items {
		out = append(out, ClusterSummary{
			Cluster: sup.Name, ClusterName: sup.Spec.ClusterName, Stats: stats[sup.Name],
			ConfigStatus: configStatus(&sup), KubernetesStatus: kubernetesStatus(&sup),
		})
	}
	writeResult(w, r, out)
}

func configStatus(sup *vspherev1.Supervisor) string {
	switch {
	case !sup.DeletionTimestamp.IsZero():
		return vspherev1.ConfigStatusRemoving
	case sup.Status.ConfigStatus == "":
		return vspherev1.ConfigStatusConfiguring
	}
	return sup.Status.ConfigStatus
}

func kubernetesStatus(sup *vspherev1.Supervisor) string {
	if sup.Status.KubernetesStatus == "" {
		return vspherev1.KubernetesStatusWarning
	}
	return sup.Status.KubernetesStatus
}

// getCluster: Clusters.Info.
func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) {
	sup, err := s.supervisor(r.Context(), r.PathValue("cluster"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.findCluster(r.Context(), sup.Name)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, r, clusterInfo(sup, c.Stats))
}

func statusMessages(msgs []vspherev1.Message) []StatusMessage {
	out := make([]StatusMessage, 0, len(msgs))
	for _, m := range msgs {
		args := m.Args
		if args == nil {
			args = []string{}
		}
		out = append(out, StatusMessage{Severity: m.Severity, Details: MessageDetails{ID: m.ID, DefaultMessage: m.DefaultMessage, Args: args}})
	}
	return out
}

func clusterInfo(sup *vspherev1.Supervisor, stats Stats) ClusterInfo {
	spec := sup.Spec
	cidr := CIDR{}
	if p, err := netip.ParsePrefix(spec.ServiceCIDR); err == nil {
		cidr = CIDR{Address: p.Addr().String(), Prefix: p.Bits()}
	}
	info := ClusterInfo{
		SizeHint: spec.SizeHint, StatSummary: stats,
		ConfigStatus: configStatus(sup), Messages: statusMessages(sup.Status.Messages),
		KubernetesStatus: kubernetesStatus(sup), KubernetesStatusMessages: statusMessages(sup.Status.KubernetesStatusMessages),
		APIServerManagementEndpoint: sup.Status.APIServerManagementEndpoint,
		APIServerClusterEndpoint:    sup.Status.APIServerClusterEndpoint,
		APIServers:                  nonNil(sup.Status.APIServers),
		TLSEndpointCertificate:      sup.Status.TLSEndpointCertificate,
		NetworkProvider:             spec.NetworkProvider,
		WorkloadNetworks:            &WorkloadNetworksInfo{SupervisorPrimaryWorkloadNetwork: networkInfo(spec.WorkloadNetwork)},
		LoadBalancers:               []LoadBalancerInfo{loadBalancerInfo(spec.LoadBalancer)},
		ServiceCIDR:                 cidr,
		MasterManagementNetwork:     managementNetworkWire(spec.ManagementNetwork),
		MasterDNS:                   nonNil(spec.MasterDNS), WorkerDNS: nonNil(spec.WorkerDNS),
		MasterDNSSearchDomains: nonNil(spec.MasterDNSSearchDomains), MasterNTPServers: nonNil(spec.MasterNTPServers),
		MasterDNSNames: nonNil(spec.MasterDNSNames), WorkloadNTPServers: nonNil(spec.WorkloadNTPServers),
		MasterStoragePolicy: spec.MasterStoragePolicy, EphemeralStoragePolicy: spec.EphemeralStoragePolicy,
		ImageStorage:                           ImageStorage{StoragePolicy: spec.ImageStoragePolicy},
		DefaultKubernetesServiceContentLibrary: spec.DefaultKubernetesServiceContentLibrary,
		LoginBanner:                            spec.LoginBanner,
	}
	return info
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func networkInfo(n vspherev1.SupervisorWorkloadNetwork) NetworkSpec {
	ranges := make([]IPRange, 0, len(n.AddressRanges))
	for _, r := range n.AddressRanges {
		ranges = append(ranges, IPRange{Address: r.Address, Count: int(r.Count)})
	}
	return NetworkSpec{Network: n.Name, NetworkProvider: "VSPHERE_NETWORK", VSphereNetwork: &VSphereNetwork{
		Portgroup: n.PortGroup, Gateway: n.Gateway, SubnetMask: n.SubnetMask, AddressRanges: ranges,
	}}
}

func loadBalancerInfo(lb vspherev1.SupervisorLoadBalancer) LoadBalancerInfo {
	ranges := make([]IPRange, 0, len(lb.AddressRanges))
	for _, r := range lb.AddressRanges {
		ranges = append(ranges, IPRange{Address: r.Address, Count: int(r.Count)})
	}
	servers := make([]HAProxyServer, 0, len(lb.Servers))
	for _, sv := range lb.Servers {
		servers = append(servers, HAProxyServer{Host: sv.Host, Port: int(sv.Port)})
	}
	return LoadBalancerInfo{ID: lb.ID, Provider: lb.Provider, AddressRanges: ranges, HAProxyInfo: &HAProxyInfo{
		Servers: servers, Username: lb.Username, CertificateAuthorityChain: lb.CertificateAuthorityChain,
	}}
}

func managementNetworkWire(m vspherev1.ManagementNetwork) MasterManagementNetwork {
	out := MasterManagementNetwork{Mode: m.Mode, Network: m.Network, FloatingIP: m.FloatingIP}
	if a := m.AddressRange; a != nil {
		out.AddressRange = &AddressRange{StartingAddress: a.StartingAddress, AddressCount: int(a.AddressCount), SubnetMask: a.SubnetMask, Gateway: a.Gateway}
	}
	return out
}

// listLoadBalancers: the cluster's load balancers, without passwords.
func (s *Server) listLoadBalancers(w http.ResponseWriter, r *http.Request) {
	sup, err := s.supervisor(r.Context(), r.PathValue("cluster"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeResult(w, r, []LoadBalancerInfo{loadBalancerInfo(sup.Spec.LoadBalancer)})
}

// clusterCompatibility: every cluster with hosts can be enabled here
// (vSphere networking with HAProxy needs no NSX).
func (s *Server) clusterCompatibility(w http.ResponseWriter, r *http.Request) {
	clusters, err := s.vcenterClusters(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := []map[string]any{}
	for _, c := range clusters {
		reasons := []map[string]any{}
		if c.Hosts == 0 {
			reasons = append(reasons, map[string]any{"id": "vcenter.wcp.cluster.nohosts", "default_message": "the cluster has no hosts", "args": []string{}})
		}
		compatible := len(reasons) == 0
		if q := r.URL.Query().Get("compatible"); q != "" && (q == "true") != compatible {
			continue
		}
		out = append(out, map[string]any{"cluster": c.ID, "compatible": compatible, "incompatibility_reasons": reasons})
	}
	writeResult(w, r, out)
}

// clusterSizeInfo: the control plane's size per size_hint.
func (s *Server) clusterSizeInfo(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{}
	for name, sz := range vspherev1.ControlPlaneSizes {
		vm := map[string]any{"num_cpus": sz.CPUs, "memory": sz.MemoryMiB, "capacity": sz.StorageMiB}
		out[name] = map[string]any{
			"default_service_cidr": CIDR{Address: "10.96.0.0", Prefix: 23},
			"master_vm_info":       vm, "worker_vm_info": vm,
		}
	}
	writeResult(w, r, out)
}

// switchCompatibility: the distributed switches vCenter has; each can
// carry vSphere networking.
func (s *Server) switchCompatibility(w http.ResponseWriter, r *http.Request) {
	if c := r.URL.Query().Get("cluster"); c != "" {
		if _, err := s.findCluster(r.Context(), c); err != nil {
			writeError(w, r, err)
			return
		}
	}
	vc, err := s.opts.VCenterClient(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := view.NewManager(vc).CreateContainerView(r.Context(), vc.ServiceContent.RootFolder, []string{"DistributedVirtualSwitch"}, true)
	if err != nil {
		writeError(w, r, fmt.Errorf("failed to list distributed switches: %w", err))
		return
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(r.Context())) }()
	var switches []mo.DistributedVirtualSwitch
	if err := v.Retrieve(r.Context(), []string{"DistributedVirtualSwitch"}, []string{"name"}, &switches); err != nil {
		writeError(w, r, fmt.Errorf("failed to read distributed switches: %w", err))
		return
	}
	out := []map[string]any{}
	for _, sw := range switches {
		if q := r.URL.Query().Get("compatible"); q == "false" {
			continue
		}
		out = append(out, map[string]any{"distributed_switch": sw.Self.Value, "compatible": true})
	}
	writeResult(w, r, out)
}

func viewOf(ctx context.Context, vc *vim25.Client, kind string) (*view.ContainerView, error) {
	v, err := view.NewManager(vc).CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{kind}, true)
	if err != nil {
		return nil, fmt.Errorf("failed to list vCenter's %s objects: %w", kind, err)
	}
	return v, nil
}
