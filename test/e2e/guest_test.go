package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/wait"
)

// guestConfig is the REST config of the kubeconfig Cluster API wrote for
// cluster: kubernetes-admin through the control-plane VIP.
func guestConfig(t *testing.T, cluster string) *rest.Config {
	t.Helper()
	s := &corev1.Secret{}
	if err := supervisor.client.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: cluster + "-kubeconfig"}, s); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data["value"])
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// table is what `kubectl get` prints: the server-side table of a list.
type table struct {
	Columns []struct {
		Name     string `json:"name"`
		Priority int    `json:"priority"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells []any `json:"cells"`
	} `json:"rows"`
}

// getTable asks the API server at cfg for path as kubectl get does, and
// returns the rows as column name → cell (wide columns included, as -o wide).
func getTable(t *testing.T, cfg *rest.Config, path string) []map[string]string {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, cfg.Host+path, nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("kubectl get %s: %v", path, err)
	}
	defer resp.Body.Close()
	var tab table
	if err := json.NewDecoder(resp.Body).Decode(&tab); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("kubectl get %s: %s (%v)", path, resp.Status, err)
	}
	var rows []map[string]string
	for _, r := range tab.Rows {
		row := map[string]string{}
		for i, c := range tab.Columns {
			row[strings.ToUpper(c.Name)] = fmt.Sprint(r.Cells[i])
		}
		rows = append(rows, row)
	}
	return rows
}

// assertGuestLooksReal checks the guest cluster as a user of vSphere sees it
// with the cluster's kubeconfig: `kubectl get nodes -o wide` shows every
// node Ready, with its role, the release's Kubernetes version and its VM's
// address; `kubectl version` and `kubectl api-resources` answer; ordinary
// manifests apply (a Namespace, a Deployment, a Service with a cluster IP
// from the TKC's service range, a CRD that becomes established).
func assertGuestLooksReal(t *testing.T, cluster string, controlPlanes, workers int, version, serviceRangePrefix string) {
	t.Helper()
	ctx := context.Background()
	cfg := guestConfig(t, cluster)
	vmIPs := map[string]string{}
	for _, vm := range clusterVMs(t, cluster) {
		vmIPs[vm.Name] = vm.Status.Network.PrimaryIP4
	}
	var nodes []map[string]string
	wait.For(t, time.Minute, fmt.Sprintf("%d Ready nodes in the guest", controlPlanes+workers), func() (bool, error) {
		nodes = getTable(t, cfg, "/api/v1/nodes")
		ready := 0
		for _, n := range nodes {
			if n["STATUS"] == "Ready" {
				ready++
			}
		}
		return ready == controlPlanes+workers && len(nodes) == ready, nil
	})
	cps := 0
	for _, n := range nodes {
		if n["VERSION"] != version {
			t.Errorf("node %s VERSION %q, want %q", n["NAME"], n["VERSION"], version)
		}
		if n["INTERNAL-IP"] != vmIPs[n["NAME"]] {
			t.Errorf("node %s INTERNAL-IP %q, want its VM's %q", n["NAME"], n["INTERNAL-IP"], vmIPs[n["NAME"]])
		}
		switch roles := n["ROLES"]; {
		case strings.Contains(roles, "control-plane") || strings.Contains(roles, "master"):
			cps++
		case roles != "<none>":
			t.Errorf("node %s ROLES %q", n["NAME"], roles)
		}
	}
	if cps != controlPlanes {
		t.Errorf("%d nodes show a control-plane role, want %d: %v", cps, controlPlanes, nodes)
	}

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := dc.ServerVersion(); err != nil || v.GitVersion == "" {
		t.Errorf("kubectl version: %v %v", v, err)
	}
	resources, err := dc.ServerPreferredResources()
	if err != nil || len(resources) < 10 {
		t.Errorf("kubectl api-resources: %d groups, %v", len(resources), err)
	}

	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	_ = appsv1.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	gc, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "hello"}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hello"}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "hello", Name: "hello"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(int32(2)),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "hello", Image: "nginx"}}},
				},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "hello", Name: "hello"},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}},
		},
		&apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "Widget"},
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object"}},
				}},
			},
		},
	}
	for _, o := range objs {
		if err := gc.Create(ctx, o); err != nil {
			t.Fatalf("kubectl apply of %T %s in the guest: %v", o, o.GetName(), err)
		}
	}
	svc := objs[2].(*corev1.Service)
	if !strings.HasPrefix(svc.Spec.ClusterIP, serviceRangePrefix) {
		t.Errorf("Service hello got cluster IP %q, want one from the TKC's service range %s…", svc.Spec.ClusterIP, serviceRangePrefix)
	}
	wait.For(t, 30*time.Second, "the CRD established", func() (bool, error) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := gc.Get(ctx, client.ObjectKey{Name: "widgets.example.com"}, crd); err != nil {
			return false, err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established {
				return c.Status == apiextensionsv1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	// kubectl delete namespace empties and removes it, as on any cluster.
	if err := gc.Delete(ctx, objs[0]); err != nil {
		t.Fatal(err)
	}
	wait.For(t, time.Minute, "the guest namespace hello deleted", func() (bool, error) {
		err := gc.Get(ctx, client.ObjectKey{Name: "hello"}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
}

// guestLogin logs user in to the guest cluster with the plugin, as
// `kubectl vsphere login --tanzu-kubernetes-cluster-name` does, and returns
// the REST config of the context it wrote for the cluster (nil when it
// wrote none).
func guestLogin(t *testing.T, bin, vip, user, password, cluster string) (*rest.Config, string) {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	out, err := vsphere(bin, kubeconfig, password, "login", "--server="+vip, "--vsphere-username", user, "--insecure-skip-tls-verify",
		"--tanzu-kubernetes-cluster-namespace", "ns1", "--tanzu-kubernetes-cluster-name", cluster)
	if err != nil {
		return nil, out
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Contexts[cluster]; !ok {
		return nil, out
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, cluster, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, out
}

// assertGuestLogins gives the DevOps group EDIT and viewer VIEW on ns1 and
// checks the guest cluster as they reach it through the plugin: an EDIT
// user lists its nodes with the context the login wrote (cluster-admin
// through the auth-sync ClusterRoleBindings), a VIEW user gets no guest
// context and its token is refused by the guest API server.
func assertGuestLogins(t *testing.T, cluster string) {
	t.Helper()
	bin := plugin(t)
	vip := supervisorVIP(t)
	accounts := users(t)
	for user, role := range map[string]string{"DevOps?type=GROUP": "EDIT", "viewer?type=USER": "VIEW"} {
		wcpCall(t, http.MethodPost, "/api/vcenter/namespaces/instances/ns1/access/vsphere.local/"+user, map[string]string{"role": role})
		t.Cleanup(func() {
			wcpCall(t, http.MethodDelete, "/api/vcenter/namespaces/instances/ns1/access/vsphere.local/"+user, nil)
		})
	}
	ctx := context.Background()
	cfg, out := guestLogin(t, bin, vip, "devops@vsphere.local", accounts["devops@vsphere.local"], cluster)
	if cfg == nil {
		t.Fatalf("devops (EDIT through the DevOps group) got no context %s from a guest login:\n%s", cluster, out)
	}
	devops, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The auth-sync ClusterRoleBindings follow the access list.
	wait.For(t, time.Minute, "devops (EDIT) lists the guest's nodes with the context its guest login wrote", func() (bool, error) {
		nodes := &corev1.NodeList{}
		if err := devops.List(ctx, nodes); err != nil {
			return false, err
		}
		return len(nodes.Items) > 0, nil
	})
	if !strings.HasPrefix(cfg.Host, "https://127.30.0.") || len(cfg.CAData) == 0 || cfg.BearerToken == "" {
		t.Errorf("the guest context: server %s, CA %d bytes, token %t; want the VIP, the cluster CA and a token", cfg.Host, len(cfg.CAData), cfg.BearerToken != "")
	}

	viewerCfg, out := guestLogin(t, bin, vip, "viewer@vsphere.local", accounts["viewer@vsphere.local"], cluster)
	if viewerCfg != nil {
		t.Errorf("viewer (VIEW) got a guest context:\n%s", out)
	}
	// Even with the token of a Supervisor login, the guest refuses VIEW.
	tokenCfg := rest.AnonymousClientConfig(guestConfig(t, cluster))
	tokenCfg.BearerToken = supervisorToken(t, bin, vip, "viewer@vsphere.local", accounts["viewer@vsphere.local"])
	vc, err := client.New(tokenCfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := vc.List(ctx, &corev1.NodeList{}); !apierrors.IsForbidden(err) {
		t.Errorf("viewer listing the guest's nodes: %v; want 403", err)
	}
}

// supervisorVIP is the supervisor endpoint.
func supervisorVIP(t *testing.T) string {
	t.Helper()
	var sups vspherev1.SupervisorList
	if err := supervisor.client.List(context.Background(), &sups); err != nil || len(sups.Items) != 1 {
		t.Fatalf("supervisors: %d (%v)", len(sups.Items), err)
	}
	return sups.Items[0].Status.APIServerClusterEndpoint
}

// supervisorToken logs user in to the Supervisor and returns the token.
func supervisorToken(t *testing.T, bin, vip, user, password string) string {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if out, err := vsphere(bin, kubeconfig, password, "login", "--server="+vip, "--vsphere-username", user, "--insecure-skip-tls-verify"); err != nil {
		t.Fatalf("%s logs in: %v\n%s", user, err, out)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range raw.AuthInfos {
		if a.Token != "" {
			return a.Token
		}
	}
	t.Fatalf("%s's login wrote no token", user)
	return ""
}

// guestProcesses are the running processes of cluster's control plane
// (kube-apiserver, kube-controller-manager), found by their etcd prefix or
// state directory.
func guestProcesses(namespace, cluster string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, "--etcd-prefix=/guests/"+namespace+"/"+cluster+" ") ||
			strings.Contains(cmd, filepath.Join(supervisor.dir, "guests", namespace+"-"+cluster)+"/") {
			found = append(found, filepath.Base(filepath.Dir(p)))
		}
	}
	slices.Sort(found)
	return found
}

// guestEtcdKeys counts the keys of cluster's guest API server in the
// embedded stack's etcd (found from its kube-apiserver's flags).
func guestEtcdKeys(t *testing.T, namespace, cluster string) int64 {
	t.Helper()
	var servers string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if !strings.HasSuffix(args[0], "kube-apiserver") || !strings.Contains(string(b), supervisor.dir) {
			continue
		}
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--etcd-servers="); ok {
				servers = v
			}
		}
		if servers != "" {
			break
		}
	}
	if servers == "" {
		t.Fatal("the embedded stack's etcd is not found from its kube-apiserver's flags")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(servers, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	resp, err := cli.Get(context.Background(), "/guests/"+namespace+"/"+cluster+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

// envoyService is the Service of the seed's Contour example: envoy in
// projectcontour, type LoadBalancer on 80 and 443.
func envoyService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "envoy"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": "envoy"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
				{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP},
			},
		},
	}
}

// createGuestLoadBalancer creates the envoy Service in the guest and
// returns the VIP it gets in status.loadBalancer.ingress: one of the
// supervisor's VIP range, served by HAProxy.
func createGuestLoadBalancer(t *testing.T, cluster string) string {
	t.Helper()
	ctx := context.Background()
	guest := guestClient(t, cluster)
	if err := guest.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "projectcontour"}}); err != nil {
		t.Fatal(err)
	}
	svc := envoyService()
	if err := guest.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	var vip string
	wait.For(t, time.Minute, "the guest Service envoy's EXTERNAL-IP", func() (bool, error) {
		if err := guest.Get(ctx, client.ObjectKeyFromObject(svc), svc); err != nil {
			return false, err
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, nil
		}
		vip = svc.Status.LoadBalancer.Ingress[0].IP
		return true, nil
	})
	if !strings.HasPrefix(vip, "127.30.0.") {
		t.Errorf("envoy's EXTERNAL-IP %s is not from the supervisor's VIP range", vip)
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].NodePort == 0 {
		t.Errorf("envoy has cluster IP %q and node port %d", svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort)
	}
	return vip
}

// assertVIPReachesWorkers sends HTTP requests to vip:80 until each of the
// cluster's workers answered on the envoy Service's node port through
// HAProxy, and that no other node did.
func assertVIPReachesWorkers(t *testing.T, cluster, vip string, workers int) {
	t.Helper()
	// A new connection per request, as separate clients make: HAProxy
	// balances connections, not requests.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	seen := map[string]bool{}
	wait.For(t, time.Minute, fmt.Sprintf("HTTP to %s:80 reaching all %d workers", vip, workers), func() (bool, error) {
		resp, err := hc.Get("http://" + vip + "/")
		if err != nil {
			return false, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer := strings.TrimSpace(string(body))
		if !strings.HasPrefix(answer, "service projectcontour/envoy port 80 node ") {
			return false, fmt.Errorf("answer %q", answer)
		}
		node := strings.TrimPrefix(answer, "service projectcontour/envoy port 80 node ")
		if !strings.HasPrefix(node, cluster+"-workers-") {
			t.Fatalf("the VIP reached %s, not a worker", node)
		}
		seen[node] = true
		return len(seen) == workers, fmt.Errorf("reached %d workers: %v", len(seen), keys(seen))
	})
}

// deleteGuestLoadBalancer deletes the envoy Service and waits until its
// VirtualMachineService is gone and the VIP free.
func deleteGuestLoadBalancer(t *testing.T, cluster, vip string) {
	t.Helper()
	ctx := context.Background()
	if err := guestClient(t, cluster).Delete(ctx, envoyService()); err != nil {
		t.Fatal(err)
	}
	wait.For(t, time.Minute, "envoy's VirtualMachineService deleted and "+vip+" free", func() (bool, error) {
		var list vmopv1.VirtualMachineServiceList
		if err := supervisor.client.List(ctx, &list, client.InNamespace("ns1"), client.MatchingLabels{"run.tanzu.vmware.com/service.name": "envoy"}); err != nil {
			return false, err
		}
		if len(list.Items) > 0 {
			return false, fmt.Errorf("VirtualMachineService %s left", list.Items[0].Name)
		}
		return vipReleased(vip) == nil, vipReleased(vip)
	})
}
