package vapi

import (
	"context"
	"encoding/json"
	corev1 "k8s.io/api/core/v1"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
)

// govmomiNamespaces is govmomi's vapi/namespace client pointed at srv with
// the session id.
func govmomiNamespaces(t *testing.T, srvURL, id string) *namespace.Manager {
	t.Helper()
	u, err := url.Parse(srvURL + "/sdk")
	if err != nil {
		t.Fatal(err)
	}
	sc := soap.NewClient(u, true)
	vc := &vim25.Client{Client: sc}
	rc := rest.NewClient(vc)
	rc.SessionID(id)
	return namespace.NewManager(rc)
}

func TestVMClassesThroughGovmomi(t *testing.T) {
	srv, id := newTestServer(t)
	m := govmomiNamespaces(t, srv.URL, id)
	ctx := context.Background()
	if err := m.CreateVmClass(ctx, namespace.VirtualMachineClassCreateSpec{Id: "api-class", CpuCount: 2, MemoryMb: 3072}); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = m.DeleteVmClass(ctx, "api-class") })
	if err := m.CreateVmClass(ctx, namespace.VirtualMachineClassCreateSpec{Id: "api-class", CpuCount: 2, MemoryMb: 3072}); err == nil || !strings.Contains(err.Error(), "ALREADY_EXISTS") {
		t.Errorf("a duplicate class: %v; want ALREADY_EXISTS", err)
	}
	info, err := m.GetVmClass(ctx, "api-class")
	if err != nil || info.CpuCount != 2 || info.MemoryMb != 3072 {
		t.Fatalf("get: %+v, %v", info, err)
	}
	class := &vmopv1.VirtualMachineClass{}
	if err := suiteClient.Get(ctx, client.ObjectKey{Namespace: vspherev1.VMClassCatalogNamespace, Name: "api-class"}, class); err != nil ||
		class.Spec.Hardware.Cpus != 2 || class.Spec.Hardware.Memory.Cmp(resource.MustParse("3Gi")) != 0 {
		t.Fatalf("the catalog's class: %+v (%v)", class.Spec, err)
	}
	// Reservations are percentages of the class's hardware.
	if code, body := do(t, srv, "PATCH", "/api/vcenter/namespace-management/virtual-machine-classes/api-class", id,
		map[string]any{"cpu_reservation": 50, "memory_reservation": 100}, nil); code != http.StatusNoContent {
		t.Fatalf("update: %d %s", code, body)
	}
	if err := suiteClient.Get(ctx, client.ObjectKey{Namespace: vspherev1.VMClassCatalogNamespace, Name: "api-class"}, class); err != nil ||
		class.Spec.Policies.Resources.Requests.Cpu.Cmp(resource.MustParse("1")) != 0 || class.Spec.Policies.Resources.Requests.Memory.Cmp(resource.MustParse("3Gi")) != 0 {
		t.Errorf("reservations: %+v (%v)", class.Spec.Policies.Resources.Requests, err)
	}
	code, body := do(t, srv, "POST", "/api/vcenter/namespace-management/virtual-machine-classes", id,
		map[string]any{"id": "Bad_Name", "cpu_count": 0, "memory_MB": 1024, "cpu_reservation": 150}, nil)
	for _, field := range []string{"id", "cpu_count", "cpu_reservation"} {
		if code != http.StatusBadRequest || !strings.Contains(string(body), field+":") {
			t.Errorf("a bad class does not name %s: %d %s", field, code, body)
		}
	}
	list, err := m.ListVmClasses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range list {
		found = found || c.Id == "api-class"
	}
	if !found {
		t.Errorf("list does not hold api-class: %+v", list)
	}
	if err := m.DeleteVmClass(ctx, "api-class"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetVmClass(ctx, "api-class"); err == nil {
		t.Error("a deleted class is still there")
	}
}

// enabledCluster records a Supervisor for the simulator's cluster, as
// enable would, and returns the cluster's id.
func enabledCluster(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	f := find.NewFinder(suiteSim.Client.Client, false)
	dc, err := f.Datacenter(ctx, vcsim.Datacenter)
	if err != nil {
		t.Fatal(err)
	}
	f.SetDatacenter(dc)
	cl, err := f.ClusterComputeResource(ctx, vcsim.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	sup := &vspherev1.Supervisor{ObjectMeta: metav1.ObjectMeta{Name: cl.Reference().Value}, Spec: vspherev1.SupervisorSpec{
		ClusterName:     vcsim.Cluster,
		WorkloadNetwork: vspherev1.SupervisorWorkloadNetwork{Name: "network-1", AddressRanges: []vspherev1.AddressRange{{Address: "127.20.0.10", Count: 10}}},
		LoadBalancer: vspherev1.SupervisorLoadBalancer{ID: "haproxy", AddressRanges: []vspherev1.AddressRange{{Address: "127.30.0.10", Count: 10}},
			Servers: []vspherev1.DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5556}}},
	}}
	if err := suiteClient.Create(ctx, sup); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = suiteClient.Delete(ctx, sup) })
	return sup.Name
}

func TestNamespacesLifecycleAndAccess(t *testing.T) {
	srv, id := newTestServer(t)
	cluster := enabledCluster(t)
	ctx := context.Background()
	const base = "/api/vcenter/namespaces/instances"

	bad := map[string]any{
		"cluster": cluster, "namespace": "Not_A_Label",
		"access_list":       []map[string]any{{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "ADMIN"}},
		"storage_specs":     []map[string]any{{"policy": "no-such-policy"}},
		"vm_service_spec":   map[string]any{"vm_classes": []string{"no-such-class"}, "content_libraries": []string{"no-such-library"}},
		"resource_spec":     map[string]any{"gpu_limit": 1},
		"networks":          []string{"network-1", "no-such-network"},
		"namespace_network": map[string]any{"network_provider": "NSXT_CONTAINER_PLUGIN"},
	}
	code, body := do(t, srv, "POST", base, id, bad, nil)
	for _, field := range []string{"namespace:", "access_list[0].role", "storage_specs[0].policy", "vm_service_spec.vm_classes[0]",
		"vm_service_spec.content_libraries[0]", "resource_spec.gpu_limit", "networks[1]", "namespace_network"} {
		if code != http.StatusBadRequest || !strings.Contains(string(body), field) {
			t.Errorf("a bad namespace does not name %s: %d %s", field, code, body)
		}
	}
	var all vspherev1.VSphereNamespaceList
	if err := suiteClient.List(ctx, &all); err != nil || len(all.Items) != 0 {
		t.Fatalf("a refused create left %d namespaces (%v)", len(all.Items), err)
	}

	// The catalog's namespace, which the manager makes.
	if err := suiteClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vspherev1.VMClassCatalogNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := suiteClient.Create(ctx, &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.VMClassCatalogNamespace, Name: "best-effort-small"},
		Spec: vmopv1.VirtualMachineClassSpec{Hardware: vmopv1.VirtualMachineClassHardware{Cpus: 2, Memory: resource.MustParse("4Gi")}}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	good := map[string]any{
		"cluster": cluster, "namespace": "dev", "description": "for the devs",
		"access_list":     []map[string]any{{"subject_type": "USER", "subject": "devops", "domain": "vsphere.local", "role": "OWNER"}},
		"storage_specs":   []map[string]any{{"policy": suiteSim.StoragePolicyID, "limit": 10240}},
		"vm_service_spec": map[string]any{"vm_classes": []string{"best-effort-small"}},
		"resource_spec":   map[string]any{"cpu_limit": 5000, "memory_limit": 8192},
	}
	if code, body := do(t, srv, "POST", base, id, good, nil); code != http.StatusNoContent {
		t.Fatalf("create: %d %s", code, body)
	}
	t.Cleanup(func() {
		_ = suiteClient.Delete(ctx, &vspherev1.VSphereNamespace{ObjectMeta: metav1.ObjectMeta{Name: "dev"}})
	})
	if code, body := do(t, srv, "POST", base, id, good, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "ALREADY_EXISTS") {
		t.Errorf("duplicate: %d %s", code, body)
	}
	vns := &vspherev1.VSphereNamespace{}
	if err := suiteClient.Get(ctx, client.ObjectKey{Name: "dev"}, vns); err != nil {
		t.Fatal(err)
	}
	if vns.Spec.Cluster != cluster || len(vns.Spec.AccessList) != 1 || vns.Spec.StorageSpecs[0].LimitMiB == nil || *vns.Spec.StorageSpecs[0].LimitMiB != 10240 ||
		*vns.Spec.ResourceSpec.CPULimitMHz != 5000 || vns.Spec.Description != "for the devs" {
		t.Errorf("the VSphereNamespace: %+v", vns.Spec)
	}

	// The legacy form answers Info wrapped, with the access list.
	code, body = do(t, srv, "GET", strings.Replace(base, "/api/", "/rest/", 1)+"/dev", id, nil, nil)
	var wrapped struct{ Value NamespaceInfo }
	if code != http.StatusOK || json.Unmarshal(body, &wrapped) != nil || wrapped.Value.ConfigStatus != "CONFIGURING" ||
		len(wrapped.Value.AccessList) != 1 || wrapped.Value.AccessList[0].Role != "OWNER" {
		t.Errorf("legacy get: %d %s", code, body)
	}
	if code, body := do(t, srv, "PATCH", base+"/dev", id, map[string]any{"description": "changed"}, nil); code != http.StatusNoContent {
		t.Errorf("update: %d %s", code, body)
	}
	if code, body := do(t, srv, "PATCH", base+"/dev", id, map[string]any{"networks": []string{"network-9"}}, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "networks[0]") {
		t.Errorf("update naming an unknown network: %d %s", code, body)
	}

	access := base + "/dev/access/vsphere.local/devs?type=GROUP"
	if code, body := do(t, srv, "POST", access, id, map[string]any{"role": "VIEW"}, nil); code != http.StatusNoContent {
		t.Fatalf("grant: %d %s", code, body)
	}
	if code, body := do(t, srv, "POST", access, id, map[string]any{"role": "EDIT"}, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "ALREADY_EXISTS") {
		t.Errorf("second grant: %d %s", code, body)
	}
	if code, body := do(t, srv, "GET", access, id, nil, nil); code != http.StatusOK || !strings.Contains(string(body), `"role":"VIEW"`) {
		t.Errorf("get access: %d %s", code, body)
	}
	if code, body := do(t, srv, "DELETE", access, id, nil, nil); code != http.StatusNoContent {
		t.Errorf("revoke: %d %s", code, body)
	}
	if code, _ := do(t, srv, "GET", access, id, nil, nil); code != http.StatusNotFound {
		t.Errorf("a revoked subject still has access: %d", code)
	}
	if err := suiteClient.Get(ctx, client.ObjectKey{Name: "dev"}, vns); err != nil || vns.Spec.Description != "changed" || len(vns.Spec.AccessList) != 1 {
		t.Errorf("after update and access calls: %+v (%v)", vns.Spec, err)
	}

	m := govmomiNamespaces(t, srv.URL, id)
	list, err := m.ListNamespaces(ctx)
	if err != nil || len(list) != 1 || list[0].Namespace != "dev" {
		t.Errorf("govmomi's list: %+v, %v", list, err)
	}
	if code, body := do(t, srv, "DELETE", base+"/dev", id, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if err := suiteClient.Get(ctx, client.ObjectKey{Name: "dev"}, vns); !apierrors.IsNotFound(err) {
		t.Errorf("the VSphereNamespace is still there after delete (%v)", err)
	}
	if code, _ := do(t, srv, "DELETE", base+"/dev", id, nil, nil); code != http.StatusNotFound {
		t.Errorf("deleting a missing namespace: %d, want 404", code)
	}
}

// Workload networks: listed from the Supervisor, added after enable
// (validated like enable's, overlaps refused), used by a namespace, and
// deleted once no namespace uses them; the primary one stays.
func TestWorkloadNetworks(t *testing.T) {
	srv, id := newTestServer(t)
	cluster := enabledCluster(t)
	ctx := context.Background()
	fx := newEnableFixture(t)
	nets := "/api/vcenter/namespace-management/clusters/" + cluster + "/networks"
	code, body := do(t, srv, "GET", nets, id, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"network":"network-1"`) {
		t.Fatalf("list: %d %s", code, body)
	}
	second := func(address string) map[string]any {
		return map[string]any{"network": "network-2", "network_provider": "VSPHERE_NETWORK", "vsphere_network": map[string]any{
			"portgroup": fx.workload, "gateway": "127.22.0.1", "subnet_mask": "255.255.0.0",
			"address_ranges": []map[string]any{{"address": address, "count": 20}}}}
	}
	// Overlapping the primary network's range, and a bad portgroup.
	overlapping := second("127.20.0.15")
	overlapping["vsphere_network"].(map[string]any)["portgroup"] = "dvportgroup-9999"
	overlapping["vsphere_network"].(map[string]any)["gateway"] = "127.20.0.1"
	code, body = do(t, srv, "POST", nets, id, overlapping, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "vsphere_network.address_ranges[0]: overlaps workload network network-1") ||
		!strings.Contains(string(body), "vsphere_network.portgroup") {
		t.Errorf("an overlapping network: %d %s", code, body)
	}
	if code, body := do(t, srv, "POST", nets, id, second("127.22.0.10"), nil); code != http.StatusNoContent {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := do(t, srv, "POST", nets, id, second("127.22.1.10"), nil); code != http.StatusBadRequest || !strings.Contains(string(body), "ALREADY_EXISTS") {
		t.Errorf("a second network-2: %d %s", code, body)
	}
	code, body = do(t, srv, "GET", strings.Replace(nets, "/api/", "/rest/", 1)+"/network-2", id, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"value":{"network":"network-2"`) || !strings.Contains(string(body), `"address":"127.22.0.10"`) {
		t.Errorf("legacy get: %d %s", code, body)
	}

	const base = "/api/vcenter/namespaces/instances"
	if code, body := do(t, srv, "POST", base, id, map[string]any{"cluster": cluster, "namespace": "on-net2", "networks": []string{"network-2"}}, nil); code != http.StatusNoContent {
		t.Fatalf("a namespace on network-2: %d %s", code, body)
	}
	t.Cleanup(func() {
		_ = suiteClient.Delete(ctx, &vspherev1.VSphereNamespace{ObjectMeta: metav1.ObjectMeta{Name: "on-net2"}})
	})
	if code, body := do(t, srv, "DELETE", nets+"/network-2", id, nil, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "on-net2") {
		t.Errorf("deleting a network in use: %d %s", code, body)
	}
	if code, body := do(t, srv, "DELETE", nets+"/network-1", id, nil, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "primary") {
		t.Errorf("deleting the primary network: %d %s", code, body)
	}
	if code, body := do(t, srv, "DELETE", base+"/on-net2", id, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete namespace: %d %s", code, body)
	}
	if code, body := do(t, srv, "DELETE", nets+"/network-2", id, nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d %s", code, body)
	}
	if code, _ := do(t, srv, "GET", nets+"/network-2", id, nil, nil); code != http.StatusNotFound {
		t.Errorf("a deleted network: %d, want 404", code)
	}
	sup := &vspherev1.Supervisor{}
	if err := suiteClient.Get(ctx, client.ObjectKey{Name: cluster}, sup); err != nil || len(sup.Spec.AdditionalWorkloadNetworks) != 0 {
		t.Errorf("the Supervisor keeps %d additional networks (%v)", len(sup.Spec.AdditionalWorkloadNetworks), err)
	}
}
