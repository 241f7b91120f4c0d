package vapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
)

// do makes one call with the session (or Basic credentials when user is
// set) and returns the status and the body.
func do(t *testing.T, srv *httptest.Server, method, path, session string, body any, user *url.Userinfo) (int, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, in)
	if err != nil {
		t.Fatal(err)
	}
	if user != nil {
		pw, _ := user.Password()
		req.SetBasicAuth(user.Username(), pw)
	} else if session != "" {
		req.Header.Set(SessionHeader, session)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestSessionsAreVCentersOwn(t *testing.T) {
	srv, id := newTestServer(t)
	admin := url.UserPassword(suiteSim.Username, suiteSim.Password)

	code, body := do(t, srv, "POST", "/api/session", "", nil, url.UserPassword(suiteSim.Username, "wrong"))
	if code != http.StatusUnauthorized || !strings.Contains(string(body), `"error_type":"UNAUTHENTICATED"`) || strings.Contains(string(body), "wrong") {
		t.Errorf("wrong password: %d %s; want 401 UNAUTHENTICATED without the password", code, body)
	}
	if code, body := do(t, srv, "GET", "/api/vcenter/namespace-management/clusters", "no-such-session", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("unknown session: %d %s; want 401", code, body)
	}
	code, body = do(t, srv, "GET", "/api/session", id, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(body), suiteSim.Username) {
		t.Errorf("GET /api/session: %d %s", code, body)
	}

	// The legacy form wraps the id and sets the cookie, and the id is
	// vCenter's: vCenter's own REST API accepts it.
	code, body = do(t, srv, "POST", "/rest/com/vmware/cis/session", "", nil, admin)
	var wrapped struct{ Value string }
	if code != http.StatusOK || json.Unmarshal(body, &wrapped) != nil || wrapped.Value == "" {
		t.Fatalf("legacy login: %d %s", code, body)
	}
	rc := rest.NewClient(suiteSim.Client.Client)
	rc.SessionID(wrapped.Value)
	if s, err := rc.Session(context.Background()); err != nil || s == nil {
		t.Errorf("vCenter does not know the session id the API returned (%v)", err)
	}
	if code, _ := do(t, srv, "DELETE", "/rest/com/vmware/cis/session", wrapped.Value, nil, nil); code != http.StatusOK {
		t.Errorf("legacy logout: %d", code)
	}
	if code, _ := do(t, srv, "GET", "/api/vcenter/namespace-management/clusters", wrapped.Value, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("a logged-out session still works: %d", code)
	}
}

// enableFixture is what a valid enable spec names in the simulator.
type enableFixture struct {
	cluster, management, workload, library string
	dataPlane                              *appliance.Appliance
	ca                                     []byte
}

func newEnableFixture(t *testing.T) *enableFixture {
	t.Helper()
	ctx := context.Background()
	c := suiteSim.Client.Client
	f := find.NewFinder(c, false)
	dc, err := f.Datacenter(ctx, vcsim.Datacenter)
	if err != nil {
		t.Fatal(err)
	}
	f.SetDatacenter(dc)
	fx := &enableFixture{}
	cl, err := f.ClusterComputeResource(ctx, vcsim.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	fx.cluster = cl.Reference().Value
	for name, dst := range map[string]*string{vcsim.ManagementPortGroup: &fx.management, vcsim.WorkloadPortGroup: &fx.workload} {
		n, err := f.Network(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		*dst = n.Reference().Value
	}
	rc := rest.NewClient(c)
	if err := rc.Login(ctx, url.UserPassword(suiteSim.Username, suiteSim.Password)); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Logout(ctx) }()
	lib, err := library.NewManager(rc).GetLibraryByName(ctx, vcsim.ContentLibrary)
	if err != nil {
		t.Fatal(err)
	}
	fx.library = lib.ID
	dir := t.TempDir()
	ca, cert, key, err := appliance.WriteSelfSignedTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	fx.ca = ca
	fx.dataPlane, err = appliance.Start(ctx, appliance.Options{Dir: dir, Username: "haproxy", Password: "s3cret-dpapi", CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fx.dataPlane.Stop)
	return fx
}

// spec is a valid enable spec; the Data Plane API answers for real.
func (fx *enableFixture) spec(t *testing.T) map[string]any {
	u, err := url.Parse(fx.dataPlane.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	policy := suiteSim.StoragePolicyID
	return map[string]any{
		"size_hint": "TINY", "network_provider": "VSPHERE_NETWORK",
		"service_cidr": map[string]any{"address": "10.96.0.0", "prefix": 23},
		"master_management_network": map[string]any{"mode": "STATICRANGE", "network": fx.management, "address_range": map[string]any{
			"starting_address": "127.10.0.10", "address_count": 5, "subnet_mask": "255.0.0.0", "gateway": "127.0.0.1"}},
		"master_DNS": []string{"127.0.0.53"}, "Master_DNS_names": []string{"supervisor.lab.local"},
		"workload_networks_spec": map[string]any{"supervisor_primary_workload_network": map[string]any{
			"network": "network-1", "network_provider": "VSPHERE_NETWORK",
			"vsphere_network": map[string]any{"portgroup": fx.workload, "gateway": "127.20.0.1", "subnet_mask": "255.255.0.0",
				"address_ranges": []map[string]any{{"address": "127.20.0.10", "count": 100}}}}},
		"load_balancer_config_spec": map[string]any{"id": "haproxy", "provider": "HA_PROXY",
			"address_ranges": []map[string]any{{"address": "127.30.0.10", "count": 16}},
			"ha_proxy_config_create_spec": map[string]any{"servers": []map[string]any{{"host": u.Hostname(), "port": port}},
				"username": "haproxy", "password": "s3cret-dpapi", "certificate_authority_chain": string(fx.ca)}},
		"master_storage_policy": policy, "ephemeral_storage_policy": policy, "image_storage": map[string]any{"storage_policy": policy},
		"default_kubernetes_service_content_library": fx.library, "login_banner": "Authorized use only",
	}
}

func set(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	m[keys[len(keys)-1]] = v
}

// Every bad field of an enable spec is named in one 400 answer, and
// nothing is created.
func TestEnableRefusesEveryBadFieldAndCreatesNothing(t *testing.T) {
	srv, id := newTestServer(t)
	fx := newEnableFixture(t)
	spec := fx.spec(t)
	set(spec, "size_hint", "HUGE")
	set(spec, "service_cidr.address", "10.96.0.300")
	set(spec, "master_management_network.network", "network-9999")
	set(spec, "workload_networks_spec.supervisor_primary_workload_network.vsphere_network.portgroup", "dvportgroup-9999")
	// The VIPs overlap the workload range.
	set(spec, "load_balancer_config_spec.address_ranges", []map[string]any{{"address": "127.20.0.50", "count": 4}})
	set(spec, "load_balancer_config_spec.ha_proxy_config_create_spec.certificate_authority_chain", "not a certificate")
	set(spec, "master_storage_policy", "no-such-policy")
	set(spec, "default_kubernetes_service_content_library", "no-such-library")
	// An additional network named like the primary one, on the same range.
	set(spec, "workload_networks_spec.network_list", []map[string]any{{"network": "network-1", "network_provider": "VSPHERE_NETWORK",
		"vsphere_network": map[string]any{"portgroup": fx.workload, "gateway": "127.20.0.1", "subnet_mask": "255.255.0.0",
			"address_ranges": []map[string]any{{"address": "127.20.0.50", "count": 10}}}}})
	code, body := do(t, srv, "POST", "/api/vcenter/namespace-management/clusters/"+fx.cluster+"?action=enable", id, spec, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), `"error_type":"INVALID_ARGUMENT"`) {
		t.Fatalf("enable with bad fields: %d %s", code, body)
	}
	for _, field := range []string{"size_hint", "service_cidr.address", "master_management_network.network",
		"vsphere_network.portgroup", "load_balancer_config_spec.address_ranges[0]", "certificate_authority_chain",
		"master_storage_policy", "default_kubernetes_service_content_library",
		"network_list[0].network: the name", "network_list[0].vsphere_network.address_ranges[0]: overlaps"} {
		if !strings.Contains(string(body), field) {
			t.Errorf("the answer does not name %s: %s", field, body)
		}
	}
	if strings.Contains(string(body), "s3cret-dpapi") {
		t.Error("the answer carries the Data Plane API password")
	}
	assertNotEnabled(t, fx.cluster)

	// DHCP on the management network: the control-plane VMs need static
	// addresses.
	spec = fx.spec(t)
	set(spec, "master_management_network.mode", "DHCP")
	code, body = do(t, srv, "POST", "/api/vcenter/namespace-management/clusters/"+fx.cluster+"?action=enable", id, spec, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "master_management_network.mode") {
		t.Errorf("enable with a DHCP management network: %d %s", code, body)
	}
	assertNotEnabled(t, fx.cluster)

	// Wrong Data Plane API credentials: refused by the probe.
	spec = fx.spec(t)
	set(spec, "load_balancer_config_spec.ha_proxy_config_create_spec.password", "not-the-password")
	code, body = do(t, srv, "POST", "/api/vcenter/namespace-management/clusters/"+fx.cluster+"?action=enable", id, spec, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "ha_proxy_config_create_spec.servers[0]") {
		t.Errorf("enable with a wrong Data Plane API password: %d %s", code, body)
	}
	assertNotEnabled(t, fx.cluster)
}

func assertNotEnabled(t *testing.T, cluster string) {
	t.Helper()
	if err := suiteClient.Get(context.Background(), client.ObjectKey{Name: cluster}, &vspherev1.Supervisor{}); !apierrors.IsNotFound(err) {
		t.Errorf("a refused enable left a Supervisor (%v)", err)
	}
	var secrets corev1.SecretList
	if err := suiteClient.List(context.Background(), &secrets, client.InNamespace(vspherev1.SupervisorSystemNamespace)); err == nil && len(secrets.Items) > 0 {
		t.Errorf("a refused enable left %d Secrets", len(secrets.Items))
	}
}

// Enable records the Supervisor and keeps the password only in its
// Secret; Info reports it in both forms without the password; a second
// enable is already_exists; disable removes the Supervisor.
func TestEnableInfoAndDisable(t *testing.T) {
	srv, id := newTestServer(t)
	fx := newEnableFixture(t)
	ctx := context.Background()
	path := "/api/vcenter/namespace-management/clusters/" + fx.cluster
	spec := fx.spec(t)
	set(spec, "workload_networks_spec.network_list", []map[string]any{{"network": "network-2", "network_provider": "VSPHERE_NETWORK",
		"vsphere_network": map[string]any{"portgroup": fx.workload, "gateway": "127.20.0.1", "subnet_mask": "255.255.0.0",
			"address_ranges": []map[string]any{{"address": "127.20.1.10", "count": 10}}}}})
	if code, body := do(t, srv, "POST", path+"?action=enable", id, spec, nil); code != http.StatusNoContent {
		t.Fatalf("enable: %d %s", code, body)
	}
	t.Cleanup(func() {
		_ = suiteClient.Delete(ctx, &vspherev1.Supervisor{ObjectMeta: metaName(fx.cluster)})
		_ = suiteClient.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(vspherev1.SupervisorSystemNamespace))
	})
	if code, body := do(t, srv, "POST", path+"?action=enable", id, fx.spec(t), nil); code != http.StatusBadRequest || !strings.Contains(string(body), "ALREADY_EXISTS") {
		t.Errorf("second enable: %d %s; want 400 ALREADY_EXISTS", code, body)
	}

	sup := &vspherev1.Supervisor{}
	if err := suiteClient.Get(ctx, client.ObjectKey{Name: fx.cluster}, sup); err != nil {
		t.Fatal(err)
	}
	if n := sup.Spec.AdditionalWorkloadNetworks; len(n) != 1 || n[0].Name != "network-2" || n[0].AddressRanges[0] != (vspherev1.AddressRange{Address: "127.20.1.10", Count: 10}) {
		t.Errorf("network_list recorded as %+v", n)
	}
	if raw, _ := json.Marshal(sup); strings.Contains(string(raw), "s3cret-dpapi") {
		t.Error("the Supervisor object carries the password")
	}
	secret := &corev1.Secret{}
	if err := suiteClient.Get(ctx, client.ObjectKey{Namespace: vspherev1.SupervisorSystemNamespace, Name: sup.Spec.LoadBalancer.CredentialsSecret}, secret); err != nil || string(secret.Data["password"]) != "s3cret-dpapi" {
		t.Errorf("the credentials Secret does not hold the password (%v)", err)
	}

	code, body := do(t, srv, "GET", path, id, nil, nil)
	var info ClusterInfo
	if code != http.StatusOK || json.Unmarshal(body, &info) != nil {
		t.Fatalf("get: %d %s", code, body)
	}
	if strings.Contains(string(body), "s3cret-dpapi") || strings.Contains(string(body), `"password"`) {
		t.Errorf("Info carries the password: %s", body)
	}
	if info.ConfigStatus != vspherev1.ConfigStatusConfiguring || info.SizeHint != "TINY" || len(info.LoadBalancers) != 1 ||
		info.LoadBalancers[0].HAProxyInfo == nil || info.LoadBalancers[0].HAProxyInfo.Username != "haproxy" ||
		info.ServiceCIDR.Prefix != 23 || info.LoginBanner != "Authorized use only" || len(info.MasterDNSNames) != 1 {
		t.Errorf("Info = %+v", info)
	}
	// The legacy form answers the same, wrapped.
	code, body = do(t, srv, "GET", strings.Replace(path, "/api/", "/rest/", 1), id, nil, nil)
	var wrapped struct{ Value ClusterInfo }
	if code != http.StatusOK || json.Unmarshal(body, &wrapped) != nil || wrapped.Value.SizeHint != "TINY" {
		t.Errorf("legacy get: %d %s", code, body)
	}
	code, body = do(t, srv, "GET", "/api/vcenter/namespace-management/clusters", id, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"cluster":"`+fx.cluster+`"`) || !strings.Contains(string(body), `"cluster_name":"`+vcsim.Cluster+`"`) {
		t.Errorf("list: %d %s", code, body)
	}
	code, body = do(t, srv, "GET", path+"/load-balancers", id, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"ha_proxy_info"`) || strings.Contains(string(body), "s3cret") {
		t.Errorf("load-balancers: %d %s", code, body)
	}
	if code, body := do(t, srv, "PATCH", path, id, map[string]any{"login_banner": "Be nice"}, nil); code != http.StatusNoContent {
		t.Errorf("update: %d %s", code, body)
	} else if err := suiteClient.Get(ctx, client.ObjectKey{Name: fx.cluster}, sup); err != nil || sup.Spec.LoginBanner != "Be nice" {
		t.Errorf("the update did not reach the Supervisor: %q (%v)", sup.Spec.LoginBanner, err)
	}

	if code, body := do(t, srv, "POST", path+"?action=disable", id, nil, nil); code != http.StatusNoContent {
		t.Fatalf("disable: %d %s", code, body)
	}
	if err := suiteClient.Get(ctx, client.ObjectKey{Name: fx.cluster}, sup); !apierrors.IsNotFound(err) && sup.DeletionTimestamp.IsZero() {
		t.Errorf("the Supervisor is neither gone nor being deleted after disable (%v)", err)
	}
	if code, _ := do(t, srv, "GET", "/api/vcenter/namespace-management/clusters/domain-c9999", id, nil, nil); code != http.StatusNotFound {
		t.Errorf("an unknown cluster: %d, want 404", code)
	}
}

// The front serves the API and passes everything else to vCenter.
func TestFrontPassesOtherPathsToVCenter(t *testing.T) {
	api := New(Options{VCenter: suiteSim.URL, CAFile: suiteSim.CAFile, Client: suiteClient, VCenterClient: simClient, StoragePolicies: suitePolicies})
	front, err := NewFront(api, suiteSim.URL, suiteSim.CAFile, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(front)
	defer srv.Close()
	code, body := do(t, srv, "POST", "/api/session", "", nil, url.UserPassword(suiteSim.Username, suiteSim.Password))
	var id string
	if code != http.StatusCreated || json.Unmarshal(body, &id) != nil {
		t.Fatalf("login through the front: %d %s", code, body)
	}
	// The content library API is vCenter's, reached with the same session.
	code, body = do(t, srv, "GET", "/rest/com/vmware/content/library", id, nil, nil)
	if code != http.StatusOK || !strings.Contains(string(body), "value") {
		t.Errorf("vCenter's library API through the front: %d %s", code, body)
	}
}

func metaName(n string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: n} }

func simClient(context.Context) (*vim25.Client, error) { return suiteSim.Client.Client, nil }
