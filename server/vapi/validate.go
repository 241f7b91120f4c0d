package vapi

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"strings"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vim25/mo"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

// span is a named address range, for overlap checks.
type span struct {
	field       string
	first, last netip.Addr
}

func (a span) overlaps(b span) bool { return !a.last.Less(b.first) && !b.last.Less(a.first) }

// rangeOf parses address+count into a span; ok is false (with the field
// reported) when it does not parse.
func rangeOf(bad *invalidArgs, field, address string, count int) (span, bool) {
	a, err := netip.ParseAddr(address)
	if err != nil || !a.Is4() {
		bad.add(field+".address", "%q is not an IPv4 address", address)
		return span{}, false
	}
	if count < 1 {
		bad.add(field+".count", "must be at least 1, not %d", count)
		return span{}, false
	}
	rg, err := iprange.FromCount(a, count)
	if err != nil {
		bad.add(field+".count", "%v", err)
		return span{}, false
	}
	return span{field: field, first: rg.First, last: rg.Last}, true
}

// subnet parses an address and a dotted mask into its prefix.
func subnet(bad *invalidArgs, field, addr, mask string) (netip.Prefix, bool) {
	bits, err := iprange.MaskBits(mask)
	if err != nil {
		bad.add(field, "%v", err)
		return netip.Prefix{}, false
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}

func validateDNSNames(bad *invalidArgs, field string, names []string) {
	for i, n := range names {
		if errs := validation.IsDNS1123Subdomain(strings.ToLower(n)); len(errs) > 0 {
			bad.add(fmt.Sprintf("%s[%d]", field, i), "%q is not a DNS name: %s", n, strings.Join(errs, "; "))
		}
	}
}

// validateHosts checks servers given as addresses (onlyIP) or as
// addresses or DNS names.
func validateHosts(bad *invalidArgs, field string, hosts []string, onlyIP bool) {
	for i, h := range hosts {
		if _, err := netip.ParseAddr(h); err == nil {
			continue
		}
		if onlyIP || len(validation.IsDNS1123Subdomain(strings.ToLower(h))) > 0 {
			bad.add(fmt.Sprintf("%s[%d]", field, i), "%q is not an IP address", h)
		}
	}
}

// validateEnable checks the whole enable spec against itself and against
// what vCenter and the Data Plane API really have, one message per bad
// field.
func (s *Server) validateEnable(ctx context.Context, session string, spec *EnableSpec) error {
	var bad invalidArgs
	if _, ok := vspherev1.ControlPlaneSizes[spec.SizeHint]; !ok {
		bad.add("size_hint", "want TINY, SMALL, MEDIUM or LARGE, not %q", spec.SizeHint)
	}
	switch spec.NetworkProvider {
	case "VSPHERE_NETWORK":
	case "NSXT_CONTAINER_PLUGIN":
		bad.add("network_provider", "NSXT_CONTAINER_PLUGIN is not supported: use VSPHERE_NETWORK with an HA_PROXY load balancer")
	default:
		bad.add("network_provider", "want VSPHERE_NETWORK, not %q", spec.NetworkProvider)
	}
	var spans []span
	if spec.ServiceCIDR == nil {
		bad.add("service_cidr", "is required")
	} else if a, err := netip.ParseAddr(spec.ServiceCIDR.Address); err != nil || !a.Is4() {
		bad.add("service_cidr.address", "%q is not an IPv4 address", spec.ServiceCIDR.Address)
	} else if spec.ServiceCIDR.Prefix < 12 || spec.ServiceCIDR.Prefix > 28 {
		bad.add("service_cidr.prefix", "want 12 to 28, not %d", spec.ServiceCIDR.Prefix)
	} else {
		p := netip.PrefixFrom(a, spec.ServiceCIDR.Prefix).Masked()
		spans = append(spans, span{field: "service_cidr", first: p.Addr(), last: iprange.LastOf(p)})
	}

	portgroups, networks, err := s.networks(ctx)
	if err != nil {
		return err
	}
	var subnets []netip.Prefix
	spans, subnets = s.validateManagement(&bad, spec.MasterManagementNetwork, networks, spans, subnets)
	spans, subnets = validateWorkload(&bad, spec.WorkloadNetworksSpec, portgroups, spans, subnets)
	spans = s.validateLoadBalancer(ctx, &bad, spec.LoadBalancerConfigSpec, subnets, spans)
	for i := range spans {
		for j := i + 1; j < len(spans); j++ {
			if spans[i].overlaps(spans[j]) {
				bad.add(spans[j].field, "overlaps %s (%s-%s)", spans[i].field, spans[i].first, spans[i].last)
			}
		}
	}

	validateHosts(&bad, "master_DNS", spec.MasterDNS, true)
	validateHosts(&bad, "worker_DNS", spec.WorkerDNS, true)
	validateHosts(&bad, "master_NTP_servers", spec.MasterNTPServers, false)
	validateHosts(&bad, "workload_ntp_servers", spec.WorkloadNTPServers, false)
	validateDNSNames(&bad, "Master_DNS_names", spec.MasterDNSNames)
	validateDNSNames(&bad, "master_DNS_search_domains", spec.MasterDNSSearchDomains)

	s.validatePolicies(ctx, &bad, spec)
	if spec.DefaultKubernetesServiceContentLibrary != "" {
		s.validateLibrary(ctx, &bad, session, "default_kubernetes_service_content_library", spec.DefaultKubernetesServiceContentLibrary)
	}
	return bad.err()
}

// networks reads vCenter's portgroups (by managed object id) and every
// network's id.
func (s *Server) networks(ctx context.Context) (portgroups map[string]string, networks map[string]bool, err error) {
	vc, err := s.opts.VCenterClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	v, err := viewOf(ctx, vc, "Network")
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	var nets []mo.Network
	if err := v.Retrieve(ctx, []string{"Network"}, []string{"name"}, &nets); err != nil {
		return nil, nil, fmt.Errorf("failed to read vCenter's networks: %w", err)
	}
	portgroups, networks = map[string]string{}, map[string]bool{}
	for _, n := range nets {
		networks[n.Self.Value] = true
		if n.Self.Type == "DistributedVirtualPortgroup" {
			portgroups[n.Self.Value] = n.Name
		}
	}
	return portgroups, networks, nil
}

func (s *Server) validateManagement(bad *invalidArgs, m *MasterManagementNetwork, networks map[string]bool, spans []span, subnets []netip.Prefix) ([]span, []netip.Prefix) {
	const f = "master_management_network"
	if m == nil {
		bad.add(f, "is required")
		return spans, subnets
	}
	if !networks[m.Network] {
		bad.add(f+".network", "vCenter has no network %q", m.Network)
	}
	switch m.Mode {
	case "DHCP":
		// The control-plane VMs get static addresses from the VM service.
		bad.add(f+".mode", "only STATICRANGE is supported, not DHCP")
		return spans, subnets
	case "STATICRANGE":
	default:
		bad.add(f+".mode", "want STATICRANGE or DHCP, not %q", m.Mode)
		return spans, subnets
	}
	a := m.AddressRange
	if a == nil {
		bad.add(f+".address_range", "is required with mode STATICRANGE")
		return spans, subnets
	}
	if a.AddressCount < 5 {
		bad.add(f+".address_range.address_count", "the control plane needs 5 consecutive addresses, not %d", a.AddressCount)
	}
	sp, ok := rangeOf(bad, f+".address_range", a.StartingAddress, max(a.AddressCount, 1))
	if !ok {
		return spans, subnets
	}
	spans = append(spans, sp)
	p, ok := subnet(bad, f+".address_range.subnet_mask", a.StartingAddress, a.SubnetMask)
	if !ok {
		return spans, subnets
	}
	subnets = append(subnets, p)
	checkInSubnet(bad, f+".address_range", sp, p)
	if gw, err := netip.ParseAddr(a.Gateway); err != nil || !p.Contains(gw) {
		bad.add(f+".address_range.gateway", "%q is not an address in %s", a.Gateway, p)
	}
	return spans, subnets
}

func checkInSubnet(bad *invalidArgs, field string, sp span, p netip.Prefix) {
	if !p.Contains(sp.first) || !p.Contains(sp.last) {
		bad.add(field, "%s-%s is not inside the subnet %s", sp.first, sp.last, p)
	}
}

func validateWorkload(bad *invalidArgs, w *WorkloadNetworksSpec, portgroups map[string]string, spans []span, subnets []netip.Prefix) ([]span, []netip.Prefix) {
	const f = "workload_networks_spec"
	if w == nil || w.SupervisorPrimaryWorkloadNetwork == nil {
		bad.add(f+".supervisor_primary_workload_network", "is required with network_provider VSPHERE_NETWORK")
		return spans, subnets
	}
	spans, subnets = validateNetwork(bad, f+".supervisor_primary_workload_network", w.SupervisorPrimaryWorkloadNetwork, portgroups, spans, subnets)
	names := map[string]bool{w.SupervisorPrimaryWorkloadNetwork.Network: true}
	for i := range w.NetworkList {
		field := fmt.Sprintf("%s.network_list[%d]", f, i)
		if names[w.NetworkList[i].Network] {
			bad.add(field+".network", "the name %q is taken by another workload network", w.NetworkList[i].Network)
		}
		names[w.NetworkList[i].Network] = true
		spans, subnets = validateNetwork(bad, field, &w.NetworkList[i], portgroups, spans, subnets)
	}
	return spans, subnets
}

// validateNetwork checks one workload network (Networks.CreateSpec) at f
// (the root when empty) and adds its ranges and subnet for the overlap checks.
func validateNetwork(bad *invalidArgs, f string, n *NetworkSpec, portgroups map[string]string, spans []span, subnets []netip.Prefix) ([]span, []netip.Prefix) {
	at := func(field string) string {
		if f == "" {
			return field
		}
		return f + "." + field
	}
	if errs := validation.IsDNS1123Label(n.Network); len(errs) > 0 {
		bad.add(at("network"), "%q is not a DNS label: %s", n.Network, strings.Join(errs, "; "))
	}
	if n.NetworkProvider != "VSPHERE_NETWORK" {
		bad.add(at("network_provider"), "want VSPHERE_NETWORK, not %q", n.NetworkProvider)
	}
	v := n.VSphereNetwork
	if v == nil {
		bad.add(at("vsphere_network"), "is required")
		return spans, subnets
	}
	if _, ok := portgroups[v.Portgroup]; !ok {
		bad.add(at("vsphere_network.portgroup"), "vCenter has no distributed portgroup %q", v.Portgroup)
	}
	if v.IPAssignmentMode != "" && v.IPAssignmentMode != "STATICRANGE" {
		bad.add(at("vsphere_network.ip_assignment_mode"), "only STATICRANGE is supported, not %q", v.IPAssignmentMode)
	}
	p, ok := subnet(bad, at("vsphere_network.subnet_mask"), v.Gateway, v.SubnetMask)
	if gw, err := netip.ParseAddr(v.Gateway); err != nil || !gw.Is4() {
		bad.add(at("vsphere_network.gateway"), "%q is not an IPv4 address", v.Gateway)
		ok = false
	}
	if ok {
		subnets = append(subnets, p)
	}
	if len(v.AddressRanges) == 0 {
		bad.add(at("vsphere_network.address_ranges"), "at least one range is required")
	}
	for i, r := range v.AddressRanges {
		field := at(fmt.Sprintf("vsphere_network.address_ranges[%d]", i))
		if sp, rok := rangeOf(bad, field, r.Address, r.Count); rok {
			spans = append(spans, sp)
			if ok {
				checkInSubnet(bad, field, sp, p)
			}
		}
	}
	return spans, subnets
}

func (s *Server) validateLoadBalancer(ctx context.Context, bad *invalidArgs, lb *LoadBalancerSpec, subnets []netip.Prefix, spans []span) []span {
	const f = "load_balancer_config_spec"
	if lb == nil {
		bad.add(f, "is required with network_provider VSPHERE_NETWORK")
		return spans
	}
	if errs := validation.IsDNS1123Label(lb.ID); len(errs) > 0 {
		bad.add(f+".id", "%q is not a DNS label: %s", lb.ID, strings.Join(errs, "; "))
	}
	if lb.Provider != "HA_PROXY" {
		bad.add(f+".provider", "want HA_PROXY, not %q", lb.Provider)
	}
	if len(lb.AddressRanges) == 0 {
		bad.add(f+".address_ranges", "at least one VIP range is required")
	}
	for i, r := range lb.AddressRanges {
		field := fmt.Sprintf("%s.address_ranges[%d]", f, i)
		sp, ok := rangeOf(bad, field, r.Address, r.Count)
		if !ok {
			continue
		}
		spans = append(spans, sp)
		inside := false
		for _, p := range subnets {
			inside = inside || (p.Contains(sp.first) && p.Contains(sp.last))
		}
		if !inside && len(subnets) > 0 {
			bad.add(field, "%s-%s is outside every network of the spec (management and workload)", sp.first, sp.last)
		}
	}
	h := lb.HAProxyConfigCreateSpec
	if h == nil {
		bad.add(f+".ha_proxy_config_create_spec", "is required with provider HA_PROXY")
		return spans
	}
	before := len(bad.msgs)
	if len(h.Servers) == 0 {
		bad.add(f+".ha_proxy_config_create_spec.servers", "at least one Data Plane API server is required")
	}
	for i, sv := range h.Servers {
		if sv.Host == "" {
			bad.add(fmt.Sprintf("%s.ha_proxy_config_create_spec.servers[%d].host", f, i), "is required")
		}
		if sv.Port < 1 || sv.Port > 65535 {
			bad.add(fmt.Sprintf("%s.ha_proxy_config_create_spec.servers[%d].port", f, i), "want 1 to 65535, not %d", sv.Port)
		}
	}
	if h.Username == "" {
		bad.add(f+".ha_proxy_config_create_spec.username", "is required")
	}
	if h.Password == "" {
		bad.add(f+".ha_proxy_config_create_spec.password", "is required")
	}
	if !validCertificates(h.CertificateAuthorityChain) {
		bad.add(f+".ha_proxy_config_create_spec.certificate_authority_chain", "is not a PEM certificate chain")
	}
	if len(bad.msgs) > before {
		return spans // probing what is already wrong says nothing more
	}
	for i, sv := range h.Servers {
		err := probeDataPlaneAPI(ctx, dataPlaneProbe{Host: sv.Host, Port: sv.Port, Username: h.Username, Password: h.Password, CAPEM: h.CertificateAuthorityChain})
		if err != nil {
			bad.add(fmt.Sprintf("%s.ha_proxy_config_create_spec.servers[%d]", f, i), "the Data Plane API at %s:%d does not answer as expected: %v", sv.Host, sv.Port, err)
		}
	}
	return spans
}

func validCertificates(chain string) bool {
	rest := []byte(chain)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return n > 0
		}
		if block.Type != "CERTIFICATE" {
			return false
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return false
		}
		n++
	}
}

func (s *Server) validatePolicies(ctx context.Context, bad *invalidArgs, spec *EnableSpec) {
	image := ""
	if spec.ImageStorage != nil {
		image = spec.ImageStorage.StoragePolicy
	}
	policies, err := s.opts.StoragePolicies.Policies(ctx, spec.MasterStoragePolicy, spec.EphemeralStoragePolicy, image)
	if err != nil {
		bad.add("master_storage_policy", "cannot read vCenter's storage policies: %v", err)
		return
	}
	for field, id := range map[string]string{
		"master_storage_policy": spec.MasterStoragePolicy, "ephemeral_storage_policy": spec.EphemeralStoragePolicy,
		"image_storage.storage_policy": image,
	} {
		if id == "" {
			bad.add(field, "is required (a storage policy id)")
		} else if _, ok := storagepolicy.ByID(policies, id); !ok {
			bad.add(field, "vCenter has no storage policy with id %q", id)
		}
	}
}

// validateLibrary looks the content library up in vCenter with the
// caller's own session.
func (s *Server) validateLibrary(ctx context.Context, bad *invalidArgs, session, field, id string) {
	rc, err := s.sessions.rest(ctx)
	if err != nil {
		bad.add(field, "cannot read vCenter's content libraries: %v", err)
		return
	}
	rc.SessionID(session)
	if _, err := library.NewManager(rc).GetLibraryByID(ctx, id); err != nil {
		bad.add(field, "vCenter has no content library with id %q", id)
	}
}

// supervisorFor turns a valid enable spec into the Supervisor and the
// Secret holding the Data Plane API's credentials.
func supervisorFor(id, clusterName string, spec *EnableSpec) (*vspherev1.Supervisor, *corev1.Secret) {
	lb, h := spec.LoadBalancerConfigSpec, spec.LoadBalancerConfigSpec.HAProxyConfigCreateSpec
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.SupervisorSystemNamespace, Name: lb.ID + "-dataplane-credentials",
			Labels: map[string]string{vspherev1.SupervisorLabel: id}},
		Data: map[string][]byte{"username": []byte(h.Username), "password": []byte(h.Password)},
	}
	servers := make([]vspherev1.DataPlaneAPIServer, 0, len(h.Servers))
	for _, sv := range h.Servers {
		servers = append(servers, vspherev1.DataPlaneAPIServer{Host: sv.Host, Port: int32(sv.Port)})
	}
	mgmt := vspherev1.ManagementNetwork{Mode: spec.MasterManagementNetwork.Mode, Network: spec.MasterManagementNetwork.Network, FloatingIP: spec.MasterManagementNetwork.FloatingIP}
	if a := spec.MasterManagementNetwork.AddressRange; a != nil {
		mgmt.AddressRange = &vspherev1.ManagementAddressRange{StartingAddress: a.StartingAddress, AddressCount: int32(a.AddressCount), SubnetMask: a.SubnetMask, Gateway: a.Gateway}
	}
	sup := &vspherev1.Supervisor{
		ObjectMeta: metav1.ObjectMeta{Name: id},
		Spec: vspherev1.SupervisorSpec{
			ClusterName: clusterName, SizeHint: spec.SizeHint,
			ServiceCIDR:     fmt.Sprintf("%s/%d", spec.ServiceCIDR.Address, spec.ServiceCIDR.Prefix),
			NetworkProvider: spec.NetworkProvider, ManagementNetwork: mgmt,
			MasterDNS: spec.MasterDNS, MasterDNSSearchDomains: spec.MasterDNSSearchDomains, MasterNTPServers: spec.MasterNTPServers,
			MasterDNSNames: spec.MasterDNSNames, WorkerDNS: spec.WorkerDNS, WorkloadNTPServers: spec.WorkloadNTPServers,
			WorkloadNetwork: workloadNetworkFor(spec.WorkloadNetworksSpec.SupervisorPrimaryWorkloadNetwork),
			LoadBalancer: vspherev1.SupervisorLoadBalancer{
				ID: lb.ID, Provider: lb.Provider, AddressRanges: addressRanges(lb.AddressRanges), Servers: servers,
				Username: h.Username, CredentialsSecret: secret.Name, CertificateAuthorityChain: h.CertificateAuthorityChain,
			},
			MasterStoragePolicy: spec.MasterStoragePolicy, EphemeralStoragePolicy: spec.EphemeralStoragePolicy,
			ImageStoragePolicy:                     spec.ImageStorage.StoragePolicy,
			DefaultKubernetesServiceContentLibrary: spec.DefaultKubernetesServiceContentLibrary,
			LoginBanner:                            spec.LoginBanner,
		},
	}
	for i := range spec.WorkloadNetworksSpec.NetworkList {
		sup.Spec.AdditionalWorkloadNetworks = append(sup.Spec.AdditionalWorkloadNetworks, workloadNetworkFor(&spec.WorkloadNetworksSpec.NetworkList[i]))
	}
	return sup, secret
}

// workloadNetworkFor records a valid Networks.CreateSpec.
func workloadNetworkFor(n *NetworkSpec) vspherev1.SupervisorWorkloadNetwork {
	return vspherev1.SupervisorWorkloadNetwork{
		Name: n.Network, PortGroup: n.VSphereNetwork.Portgroup, Gateway: n.VSphereNetwork.Gateway,
		SubnetMask: n.VSphereNetwork.SubnetMask, AddressRanges: addressRanges(n.VSphereNetwork.AddressRanges),
	}
}

func addressRanges(in []IPRange) []vspherev1.AddressRange {
	out := make([]vspherev1.AddressRange, 0, len(in))
	for _, r := range in {
		out = append(out, vspherev1.AddressRange{Address: r.Address, Count: int32(r.Count)})
	}
	return out
}
