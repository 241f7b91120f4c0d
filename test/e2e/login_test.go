package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/wait"
)

// plugin builds kubectl-vsphere once per test.
func plugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kubectl-vsphere")
	build := exec.Command("go", "build", "-o", bin, "github.com/open-supervisor/supervisor/cmd/kubectl-vsphere")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubectl-vsphere: %v\n%s", err, out)
	}
	return bin
}

// vsphere runs the plugin with KUBECONFIG and the password in the
// environment, as a user does.
func vsphere(bin, kubeconfig, password string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "KUBECTL_VSPHERE_PASSWORD="+password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// A vCenter user logs in to make run's supervisor with the plugin: a
// wrong password writes nothing; the right one writes a context per
// vSphere Namespace whose token the API server accepts, with the rights
// the namespace's access list gives (vCenter's Administrators edit every
// namespace, and nothing else); logout puts the kubeconfig back.
func TestKubectlVSphereLogin(t *testing.T) {
	bin := plugin(t)
	env := readEnv(t)
	var sups vspherev1.SupervisorList
	if err := supervisor.client.List(context.Background(), &sups); err != nil || len(sups.Items) != 1 {
		t.Fatalf("supervisors: %d (%v)", len(sups.Items), err)
	}
	vip := sups.Items[0].Status.APIServerClusterEndpoint
	// Discovery before login: anyone may read vip-cluster-info, and its CA
	// verifies the endpoint.
	admin, err := clientcmd.BuildConfigFromFlags("", filepath.Join(supervisor.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	anonymous := rest.AnonymousClientConfig(admin)
	anonymous.Host = "https://" + net.JoinHostPort(vip, "6443")
	cs, err := kubernetes.NewForConfig(anonymous)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cs.CoreV1().ConfigMaps("kube-public").Get(context.Background(), "vip-cluster-info", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("an anonymous client reads vip-cluster-info: %v", err)
	}
	published, err := clientcmd.Load([]byte(info.Data["kubeconfig"]))
	if err != nil || published.Clusters[""] == nil || published.Clusters[""].Server != anonymous.Host {
		t.Fatalf("vip-cluster-info: %q (%v)", info.Data["kubeconfig"], err)
	}
	anonymous.CAData = published.Clusters[""].CertificateAuthorityData
	if cs, err = kubernetes.NewForConfig(anonymous); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Errorf("the published CA does not verify the endpoint: %v", err)
	}

	kubeconfig := filepath.Join(t.TempDir(), "config")
	before := []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster:\n    server: https://127.0.0.1:1\ncontexts: []\nusers: []\n")
	if err := os.WriteFile(kubeconfig, before, 0o600); err != nil {
		t.Fatal(err)
	}
	login := []string{"login", "--server=" + vip, "--vsphere-username", env["GOVC_USERNAME"], "--insecure-skip-tls-verify"}

	if out, err := vsphere(bin, kubeconfig, "not-the-password", login...); err == nil {
		t.Fatalf("a wrong password logged in:\n%s", out)
	}
	if got, _ := os.ReadFile(kubeconfig); !bytes.Equal(got, before) {
		t.Errorf("a failed login changed the kubeconfig:\n%s", got)
	}
	out, err := vsphere(bin, kubeconfig, env["GOVC_PASSWORD"], login...)
	if err != nil || !strings.Contains(out, "Logged in successfully.") {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if strings.Contains(out, env["GOVC_PASSWORD"]) {
		t.Error("the plugin printed the password")
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Contexts["ns1"]; !ok || raw.Contexts[vip] == nil || raw.Clusters["other"] == nil {
		t.Fatalf("contexts %v, clusters %v; want %s and ns1, and the other cluster kept", keys(raw.Contexts), keys(raw.Clusters), vip)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, "ns1", &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CertData) > 0 || cfg.BearerToken == "" {
		t.Fatal("the ns1 context does not log in with a token")
	}
	c, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.List(ctx, &vmopv1.VirtualMachineList{}, client.InNamespace("ns1")); err != nil {
		t.Errorf("the administrator cannot list VMs in ns1 with the token: %v", err)
	}
	vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "not-allowed"}}
	if err := c.Create(ctx, vm); !apierrors.IsForbidden(err) {
		t.Errorf("creating a VM outside the vSphere Namespaces: %v; want 403", err)
	}

	if out, err := vsphere(bin, kubeconfig, "", "logout"); err != nil {
		t.Fatalf("logout: %v\n%s", err, out)
	}
	after, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Contexts) != 0 || len(after.AuthInfos) != 0 || len(after.Clusters) != 1 || after.Clusters["other"] == nil {
		t.Errorf("after logout: contexts %v, users %v, clusters %v; want only the other cluster", keys(after.Contexts), keys(after.AuthInfos), keys(after.Clusters))
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// users are the embedded vCenter's DevOps users and their passwords, as
// make run writes them.
func users(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(supervisor.dir, "users"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if user, password, ok := strings.Cut(line, " "); ok {
			out[user] = password
		}
	}
	return out
}

// wcpCall makes one Workload Management REST call as the vCenter admin.
func wcpCall(t *testing.T, method, path string, body any) {
	t.Helper()
	hc, base, session := adminSession(t)
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, in)
	req.Header.Set("vmware-api-session-id", session)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, out)
	}
}

// userClient logs user in with the plugin into a kubeconfig of their own
// and returns a client for context, and the contexts login wrote.
func userClient(t *testing.T, bin, vip, user, password, context string) (client.Client, []string) {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if out, err := vsphere(bin, kubeconfig, password, "login", "--server="+vip, "--vsphere-username", user, "--insecure-skip-tls-verify"); err != nil {
		t.Fatalf("%s logs in: %v\n%s", user, err, out)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	contexts := keys(raw.Contexts)
	slices.Sort(contexts)
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		t.Fatalf("%s has no context %s: %v (contexts %v)", user, context, err, contexts)
	}
	c, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c, contexts
}

// Two vSphere Namespaces with different access lists: the DevOps group
// may edit one, the viewer may read it, neither has the other. Each user
// logs in with the plugin and gets exactly the contexts and rights the
// access lists give.
func TestNamespaceAccessThroughLogin(t *testing.T) {
	bin := plugin(t)
	ctx := context.Background()
	var sups vspherev1.SupervisorList
	if err := supervisor.client.List(ctx, &sups); err != nil || len(sups.Items) != 1 {
		t.Fatalf("supervisors: %d (%v)", len(sups.Items), err)
	}
	cluster, vip := sups.Items[0].Name, sups.Items[0].Status.APIServerClusterEndpoint
	var ns1 vspherev1.VSphereNamespace
	if err := supervisor.client.Get(ctx, client.ObjectKey{Name: "ns1"}, &ns1); err != nil {
		t.Fatal(err)
	}
	const team, other = "e2e-team", "e2e-other"
	for name, access := range map[string][]map[string]any{
		team: {
			{"subject_type": "GROUP", "subject": "DevOps", "domain": "vsphere.local", "role": "EDIT"},
			{"subject_type": "USER", "subject": "viewer", "domain": "vsphere.local", "role": "VIEW"},
		},
		other: {},
	} {
		wcpCall(t, http.MethodPost, "/api/vcenter/namespaces/instances", map[string]any{
			"cluster": cluster, "namespace": name, "access_list": access,
			"storage_specs":   []map[string]any{{"policy": ns1.Spec.StorageSpecs[0].Policy}},
			"vm_service_spec": map[string]any{"vm_classes": []string{"best-effort-xsmall"}},
		})
		t.Cleanup(func() { wcpCall(t, http.MethodDelete, "/api/vcenter/namespaces/instances/"+name, nil) })
	}
	for _, name := range []string{team, other} {
		wait.For(t, time.Minute, name+" configured", func() (bool, error) {
			vns := &vspherev1.VSphereNamespace{}
			err := supervisor.client.Get(ctx, client.ObjectKey{Name: name}, vns)
			return err == nil && vns.Status.ConfigStatus == vspherev1.ConfigStatusRunning, err
		})
	}
	accounts := users(t)
	vm := func(ns string) *vmopv1.VirtualMachine {
		return &vmopv1.VirtualMachine{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dry-run"},
			Spec:       vmopv1.VirtualMachineSpec{ClassName: "best-effort-xsmall", ImageName: "any", StorageClass: "k8s-storage"},
		}
	}

	devops, contexts := userClient(t, bin, vip, "devops@vsphere.local", accounts["devops@vsphere.local"], team)
	if !slices.Equal(contexts, []string{vip, team}) {
		t.Errorf("devops's contexts: %v; want %s and %s only", contexts, vip, team)
	}
	// The token is accepted; what follows is then RBAC's answer, not a 401.
	if err := devops.List(ctx, &vmopv1.VirtualMachineList{}, client.InNamespace(team)); err != nil {
		t.Fatalf("devops cannot list VMs in %s: %v", team, err)
	}
	if err := devops.Create(ctx, vm(team), client.DryRunAll); err != nil && apierrors.IsForbidden(err) {
		t.Errorf("devops (EDIT through the DevOps group) cannot create a VM in %s: %v", team, err)
	}
	tkc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "run.tanzu.vmware.com/v1alpha3", "kind": "TanzuKubernetesCluster",
		"metadata": map[string]any{"namespace": team, "name": "dry-run"},
	}}
	if err := devops.Create(ctx, tkc, client.DryRunAll); err != nil && apierrors.IsForbidden(err) {
		t.Errorf("devops cannot create a TanzuKubernetesCluster in %s: %v", team, err)
	}
	if err := devops.Create(ctx, vm(other), client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("devops creating a VM in %s: %v; want 403", other, err)
	}

	viewer, contexts := userClient(t, bin, vip, "viewer@vsphere.local", accounts["viewer@vsphere.local"], team)
	if !slices.Equal(contexts, []string{vip, team}) {
		t.Errorf("viewer's contexts: %v; want %s and %s only", contexts, vip, team)
	}
	if err := viewer.List(ctx, &vmopv1.VirtualMachineList{}, client.InNamespace(team)); err != nil {
		t.Errorf("viewer (VIEW) cannot list VMs in %s: %v", team, err)
	}
	if err := viewer.Create(ctx, vm(team), client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("viewer creating a VM in %s: %v; want 403", team, err)
	}
	if err := viewer.List(ctx, &vmopv1.VirtualMachineList{}, client.InNamespace(other)); !apierrors.IsForbidden(err) {
		t.Errorf("viewer listing VMs in %s: %v; want 403", other, err)
	}
}
