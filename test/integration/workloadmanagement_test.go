package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded"
	"github.com/open-supervisor/supervisor/embedded/fixtures"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// vcenterOf logs in to the stack's vCenter URL (the front) over SOAP and
// REST, as govc and govmomi's namespace client do.
func vcenterOf(t *testing.T, emb *harness.Embedded) (*govmomi.Client, *namespace.Manager) {
	t.Helper()
	ctx := context.Background()
	_, ca := emb.Stack.VCenterURL()
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	user, password := emb.Stack.VCenterCredentials()
	u, err := url.Parse(emb.URL + "/sdk")
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	sc := soap.NewClient(u, false)
	if err := sc.SetRootCAs(caFile); err != nil {
		t.Fatal(err)
	}
	vim, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	vc := &govmomi.Client{Client: vim, SessionManager: session.NewManager(vim)}
	if err := vc.Login(ctx, u.User); err != nil {
		t.Fatal(err)
	}
	rc := rest.NewClient(vc.Client)
	if err := rc.Login(ctx, u.User); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Logout(context.Background()); _ = vc.Logout(context.Background()) })
	return vc, namespace.NewManager(rc)
}

// vcenterVMs are the names of vCenter's VMs, templates included.
func vcenterVMs(t *testing.T, vc *govmomi.Client) []string {
	t.Helper()
	ctx := context.Background()
	v, err := view.NewManager(vc.Client).CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = v.Destroy(ctx) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name"}, &vms); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(vms))
	for _, vm := range vms {
		names = append(names, vm.Name)
	}
	slices.Sort(names)
	return names
}

// accepts says whether addr takes TCP connections.
func accepts(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// apiVersion asks the API server for its version through addr, trusting
// the certificate Clusters.Info reports.
func apiVersion(addr, certPEM string) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(certPEM)) {
		return fmt.Errorf("no endpoint certificate")
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Get("https://" + addr + "/version")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/version: %s", resp.Status)
	}
	return nil
}

// TestDisableLeavesNothingAndEnableAgain runs the embedded supervisor as
// make run does (Workload Management enabled through the REST API), puts a
// DevOps user's VM behind a LoadBalancer VIP in ns1, disables Workload
// Management through govmomi's namespace client, and checks that nothing
// enable or the user made is left in Kubernetes, HAProxy or vCenter. Then
// enabling again brings the supervisor back.
func TestDisableLeavesNothingAndEnableAgain(t *testing.T) {
	ctx := context.Background()
	emb := harness.StartEmbedded(t, embedded.Options{GuestPorts: "33000-33999", AddressOffset: 1})
	c, err := client.New(emb.Stack.Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	vc, wcp := vcenterOf(t, emb)

	clusters, err := wcp.ListClusters(ctx)
	if err != nil || len(clusters) != 1 || clusters[0].ConfigStatus == nil || *clusters[0].ConfigStatus != namespace.RunningConfigStatus {
		t.Fatalf("clusters: %+v (%v)", clusters, err)
	}
	cluster := clusters[0].ID
	sup := &vspherev1.Supervisor{}
	if err := c.Get(ctx, client.ObjectKey{Name: cluster}, sup); err != nil {
		t.Fatal(err)
	}
	endpoint := net.JoinHostPort(sup.Status.APIServerClusterEndpoint, "6443")
	if sup.Status.APIServerClusterEndpoint != "127.31.0.10" {
		t.Fatalf("endpoint %q", sup.Status.APIServerClusterEndpoint)
	}
	// Through the VIP and the control-plane VMs' addresses to the API
	// server.
	if err := apiVersion(endpoint, sup.Status.TLSEndpointCertificate); err != nil {
		t.Fatalf("the endpoint %s: %v", endpoint, err)
	}
	slice := &discoveryv1.EndpointSlice{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "kube-apiserver-lb-svc-6443"}, slice); err != nil {
		t.Fatal(err)
	}
	var backends []string
	for _, e := range slice.Endpoints {
		backends = append(backends, e.Addresses...)
	}
	slices.Sort(backends)
	if !slices.Equal(backends, sup.Status.APIServers) {
		t.Errorf("the endpoint forwards to %v; want the control-plane VMs %v", backends, sup.Status.APIServers)
	}
	for _, ip := range sup.Status.APIServers {
		if !accepts(net.JoinHostPort(ip, "6443")) {
			t.Errorf("control-plane VM %s does not serve 6443", ip)
		}
	}
	beforeVMs := vcenterVMs(t, vc)
	for i := 1; i <= vspherev1.ControlPlaneVMCount; i++ {
		if !slices.Contains(beforeVMs, fmt.Sprintf("supervisorcontrolplanevm-%d", i)) {
			t.Errorf("vCenter has no control-plane VM %d: %v", i, beforeVMs)
		}
	}

	// A DevOps user's VM in ns1, behind a VIP, from the control plane's
	// image (whose copy vCenter already caches).
	cp := &vmopv1.VirtualMachine{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: vspherev1.SupervisorSystemNamespace, Name: "supervisorcontrolplanevm-1"}, cp); err != nil {
		t.Fatal(err)
	}
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: fixtures.Namespace, Name: "web", Labels: map[string]string{"app": "web"}},
		Spec:       vmopv1.VirtualMachineSpec{ImageName: cp.Spec.ImageName, ClassName: "best-effort-xsmall", StorageClass: fixtures.StorageClass},
	}
	if err := c.Create(ctx, vm); err != nil {
		t.Fatal(err)
	}
	vmService := &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: fixtures.Namespace, Name: "web"},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type: vmopv1.VirtualMachineServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []vmopv1.VirtualMachineServicePort{{Name: "http", Protocol: "TCP", Port: 80, TargetPort: 80}},
		},
	}
	if err := c.Create(ctx, vmService); err != nil {
		t.Fatal(err)
	}
	var vip string
	wait.For(t, harness.Timeout, "the VM and its VIP", func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(vm), vm); err != nil {
			return false, err
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(vmService), vmService); err != nil {
			return false, err
		}
		if vm.Status.Network == nil || vm.Status.Network.PrimaryIP4 == "" || len(vmService.Status.LoadBalancer.Ingress) == 0 {
			return false, fmt.Errorf("VM network %+v, VIP %+v", vm.Status.Network, vmService.Status.LoadBalancer.Ingress)
		}
		vip = vmService.Status.LoadBalancer.Ingress[0].IP
		return true, nil
	})
	haproxyCfg := filepath.Join(emb.Stack.StateDir(), "haproxy", "haproxy.cfg")
	if cfg, err := os.ReadFile(haproxyCfg); err != nil || !strings.Contains(string(cfg), "frontend lb_") {
		t.Fatalf("HAProxy serves no VIP before disable (%v)", err)
	}

	// Disable.
	if err := wcp.DisableCluster(ctx, cluster); err != nil {
		t.Fatalf("disable: %v", err)
	}
	// As an admin's script does: poll the cluster list until the cluster
	// is no longer enabled.
	wait.For(t, 3*time.Minute, "disable to end", func() (bool, error) {
		clusters, err := wcp.ListClusters(ctx)
		if err != nil {
			return false, err
		}
		return len(clusters) == 0, fmt.Errorf("clusters %+v", clusters)
	})
	if err := c.Get(ctx, client.ObjectKey{Name: cluster}, &vspherev1.Supervisor{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Supervisor is still there after disable (%v)", err)
	}

	// Kubernetes: nothing enable or the namespace made.
	wait.For(t, harness.Timeout, "ns1 to be gone", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: fixtures.Namespace}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), err
	})
	for _, list := range []client.ObjectList{
		&vspherev1.VSphereNamespaceList{}, &vspherev1.IPAddressAllocationList{},
		&vmopv1.VirtualMachineList{}, &vmopv1.VirtualMachineServiceList{},
	} {
		if err := c.List(ctx, list); err != nil {
			t.Fatal(err)
		}
		if n := meta.LenList(list); n != 0 {
			t.Errorf("%T holds %d items after disable", list, n)
		}
	}
	var networks vspherev1.WorkloadNetworkList
	if err := c.List(ctx, &networks, client.HasLabels{"vsphere.opensupervisor.io/network-role"}); err != nil || len(networks.Items) != 0 {
		t.Errorf("%d WorkloadNetworks of the Supervisor left (%v)", len(networks.Items), err)
	}
	var classes storagev1.StorageClassList
	if err := c.List(ctx, &classes, client.MatchingLabels{vspherev1.SupervisorLabel: cluster}); err != nil || len(classes.Items) != 0 {
		t.Errorf("%d StorageClasses of the Supervisor left (%v)", len(classes.Items), err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: sup.Spec.LoadBalancer.ID}, &lbv1.LoadBalancer{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Supervisor's LoadBalancer is still there (%v)", err)
	}
	// The login service's signing keys are the supervisor's, not enable's:
	// they stay, so that tokens issued before survive until they expire.
	var secrets corev1.SecretList
	if err := c.List(ctx, &secrets, client.InNamespace(vspherev1.SupervisorSystemNamespace)); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		if s.Name != "wcp-login-signing-keys" {
			t.Errorf("Secret %s/%s left after disable", s.Namespace, s.Name)
		}
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "kube-apiserver-lb-svc"}, &corev1.Service{}); !apierrors.IsNotFound(err) {
		t.Errorf("the endpoint Service is still there (%v)", err)
	}

	// HAProxy: no VIP configured or answering.
	if cfg, err := os.ReadFile(haproxyCfg); err != nil || strings.Contains(string(cfg), "frontend lb_") {
		t.Errorf("HAProxy still has frontends after disable (%v):\n%s", err, cfg)
	}
	// HAProxy stops listening once its reload is through.
	for _, addr := range []string{endpoint, net.JoinHostPort(vip, "80")} {
		wait.For(t, harness.Timeout, addr+" to refuse connections", func() (bool, error) {
			return !accepts(addr), nil
		})
	}

	// vCenter: as before enable, less the control-plane VMs; the user's VM
	// is gone too.
	var want []string
	for _, name := range beforeVMs {
		if !strings.HasPrefix(name, "supervisorcontrolplanevm-") {
			want = append(want, name)
		}
	}
	if got := vcenterVMs(t, vc); !slices.Equal(got, want) {
		t.Errorf("vCenter's VMs after disable: %v; want %v", got, want)
	}

	// Enable again, as the wizard does.
	if _, err := emb.Stack.EnableWorkloadManagement(ctx); err != nil {
		t.Fatalf("enable again: %v", err)
	}
	again := &vspherev1.Supervisor{}
	if err := c.Get(ctx, client.ObjectKey{Name: cluster}, again); err != nil {
		t.Fatal(err)
	}
	if err := apiVersion(endpoint, again.Status.TLSEndpointCertificate); err != nil {
		t.Errorf("the endpoint %s after enabling again: %v", endpoint, err)
	}
	if got := vcenterVMs(t, vc); !slices.Equal(got, beforeVMs) {
		t.Errorf("vCenter's VMs after enabling again: %v; want %v", got, beforeVMs)
	}
}
