package embedded

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/embedded/fixtures"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/server/vapi"
)

// The embedded Supervisor's networks, all on loopback: the control plane's
// management range, the workload network and the VIPs (the first VIP is
// the supervisor endpoint).
const (
	managementFirst = "127.10.0.10"
	managementMask  = "255.0.0.0"
	managementGW    = "127.0.0.1"
	workloadFirst   = "127.20.0.10"
	workloadCount   = 4081 // to 127.20.15.250
	workloadGW      = "127.20.0.1"
	workloadMask    = "255.255.0.0"
	serviceCIDR     = "10.96.0.0"
)

// wizard makes the calls a vSphere admin's Workload Management wizard
// makes, over the stack's vCenter URL.
type wizard struct {
	base    string
	http    *http.Client
	session string
}

func newWizard(frontURL string, caPEM []byte) *wizard {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &wizard{base: frontURL, http: &http.Client{
		Timeout:   time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}}
}

// call makes one /api call; out, when not nil, receives the answer.
func (w *wizard) call(ctx context.Context, method, path string, in, out any, user *url.Userinfo) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if user != nil {
		pw, _ := user.Password()
		req.SetBasicAuth(user.Username(), pw)
	} else {
		req.Header.Set(vapi.SessionHeader, w.session)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		return resp.StatusCode, json.Unmarshal(data, out)
	}
	return resp.StatusCode, nil
}

// EnableWorkloadManagement enables Workload Management on the simulated
// cluster through the REST API, waits for it to run, creates ns1 through
// the namespaces API and returns the supervisor endpoint. The stack calls
// it once when it starts; calling it again after a disable enables again.
func (s *Stack) EnableWorkloadManagement(ctx context.Context) (string, error) {
	log := ctrl.LoggerFrom(ctx).WithName("embedded")
	w := newWizard(s.frontURL, s.frontCA)
	if _, err := w.call(ctx, http.MethodPost, "/api/session", nil, &w.session, url.UserPassword(s.sim.Username, s.sim.Password)); err != nil {
		return "", fmt.Errorf("failed to log in to the Workload Management API: %w", err)
	}
	defer func() { _, _ = w.call(context.WithoutCancel(ctx), http.MethodDelete, "/api/session", nil, nil, nil) }()

	inv, err := s.inventoryIDs(ctx)
	if err != nil {
		return "", err
	}
	spec, err := s.enableSpec(inv)
	if err != nil {
		return "", err
	}
	log.Info("Enabling Workload Management", "cluster", inv.cluster)
	start := time.Now()
	if code, err := w.call(ctx, http.MethodPost, "/api/vcenter/namespace-management/clusters/"+inv.cluster+"?action=enable", spec, nil, nil); err != nil && code != http.StatusBadRequest {
		return "", err
	} else if err != nil && !strings.Contains(err.Error(), "ALREADY_EXISTS") {
		return "", err
	}
	var info vapi.ClusterInfo
	if err := waitFor(ctx, "Workload Management to run", func() error {
		if _, err := w.call(ctx, http.MethodGet, "/api/vcenter/namespace-management/clusters/"+inv.cluster, nil, &info, nil); err != nil {
			return err
		}
		if info.ConfigStatus != vspherev1.ConfigStatusRunning {
			return fmt.Errorf("config_status %s", info.ConfigStatus)
		}
		return nil
	}); err != nil {
		return "", err
	}
	s.enableToRunning = time.Since(start)
	log.Info("Workload Management running", "cluster", inv.cluster, "endpoint", info.APIServerClusterEndpoint, "after", s.enableToRunning)

	classes := []string{}
	for _, c := range namespace.DefaultClasses("") {
		classes = append(classes, c.Name)
	}
	// The default VM classes are created in the background once Workload
	// Management runs, and a namespace naming one that is not there yet is
	// refused: wait until vCenter lists them all, as an admin would see.
	if err := waitFor(ctx, "vCenter to list the default VM classes", func() error {
		var listed []vapi.VMClassInfo
		if _, err := w.call(ctx, http.MethodGet, "/api/vcenter/namespace-management/virtual-machine-classes", nil, &listed, nil); err != nil {
			return err
		}
		have := map[string]bool{}
		for _, c := range listed {
			have[c.ID] = true
		}
		if i := slices.IndexFunc(classes, func(name string) bool { return !have[name] }); i >= 0 {
			return fmt.Errorf("VM class %q not listed yet", classes[i])
		}
		return nil
	}); err != nil {
		return "", err
	}
	user, domain, _ := strings.Cut(s.sim.Username, "@")
	ns := map[string]any{
		"cluster": inv.cluster, "namespace": fixtures.Namespace,
		"description":     "The embedded supervisor's first vSphere Namespace",
		"storage_specs":   []map[string]any{{"policy": s.sim.StoragePolicyID}},
		"vm_service_spec": map[string]any{"vm_classes": classes, "content_libraries": []string{inv.library}},
		"access_list":     []map[string]any{{"subject_type": "USER", "subject": user, "domain": domain, "role": "OWNER"}},
	}
	if _, err := w.call(ctx, http.MethodPost, "/api/vcenter/namespaces/instances", ns, nil, nil); err != nil && !strings.Contains(err.Error(), "ALREADY_EXISTS") {
		return "", fmt.Errorf("failed to create vSphere Namespace %s: %w", fixtures.Namespace, err)
	}
	return info.APIServerClusterEndpoint, nil
}

// inventoryIDs are the managed object and library ids the wizard names.
type inventoryIDs struct {
	cluster, management, workload, library string
}

func (s *Stack) inventoryIDs(ctx context.Context) (inventoryIDs, error) {
	var ids inventoryIDs
	c := s.sim.Client.Client
	f := find.NewFinder(c, false)
	dc, err := f.Datacenter(ctx, vcsim.Datacenter)
	if err != nil {
		return ids, err
	}
	f.SetDatacenter(dc)
	cl, err := f.ClusterComputeResource(ctx, vcsim.Cluster)
	if err != nil {
		return ids, err
	}
	ids.cluster = cl.Reference().Value
	for name, dst := range map[string]*string{vcsim.ManagementPortGroup: &ids.management, vcsim.WorkloadPortGroup: &ids.workload} {
		n, err := f.Network(ctx, name)
		if err != nil {
			return ids, err
		}
		*dst = n.Reference().Value
	}
	rc := rest.NewClient(c)
	if err := rc.Login(ctx, url.UserPassword(s.sim.Username, s.sim.Password)); err != nil {
		return ids, err
	}
	defer func() { _ = rc.Logout(context.WithoutCancel(ctx)) }()
	lib, err := library.NewManager(rc).GetLibraryByName(ctx, vcsim.ContentLibrary)
	if err != nil {
		return ids, err
	}
	ids.library = lib.ID
	return ids, nil
}

// enableSpec is the enable spec of the embedded Supervisor.
func (s *Stack) enableSpec(inv inventoryIDs) (*vapi.EnableSpec, error) {
	u, err := url.Parse(s.lb.URL)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, err
	}
	return &vapi.EnableSpec{
		SizeHint:        "TINY",
		NetworkProvider: "VSPHERE_NETWORK",
		ServiceCIDR:     &vapi.CIDR{Address: serviceCIDR, Prefix: 23},
		MasterManagementNetwork: &vapi.MasterManagementNetwork{Mode: "STATICRANGE", Network: inv.management, AddressRange: &vapi.AddressRange{
			StartingAddress: s.shifted(managementFirst), AddressCount: 5, SubnetMask: managementMask, Gateway: managementGW,
		}},
		WorkloadNetworksSpec: &vapi.WorkloadNetworksSpec{SupervisorPrimaryWorkloadNetwork: &vapi.NetworkSpec{
			Network: fixtures.WorkloadNetwork, NetworkProvider: "VSPHERE_NETWORK",
			VSphereNetwork: &vapi.VSphereNetwork{
				Portgroup: inv.workload, Gateway: s.shifted(workloadGW), SubnetMask: workloadMask,
				AddressRanges: []vapi.IPRange{{Address: s.shifted(workloadFirst), Count: workloadCount}},
			},
		}},
		LoadBalancerConfigSpec: &vapi.LoadBalancerSpec{
			ID: embeddedLoadBalancer, Provider: "HA_PROXY",
			AddressRanges: []vapi.IPRange{{Address: s.shifted(vipFirst), Count: vipCount}},
			HAProxyConfigCreateSpec: &vapi.HAProxyCreateSpec{
				Servers:  []vapi.HAProxyServer{{Host: u.Hostname(), Port: port}},
				Username: "lbapi", Password: s.lbPass, CertificateAuthorityChain: string(s.lbCA),
			},
		},
		MasterStoragePolicy: s.sim.StoragePolicyID, EphemeralStoragePolicy: s.sim.StoragePolicyID,
		ImageStorage:                           &vapi.ImageStorage{StoragePolicy: s.sim.StoragePolicyID},
		DefaultKubernetesServiceContentLibrary: inv.library,
	}, nil
}
