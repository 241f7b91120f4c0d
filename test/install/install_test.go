package install

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/api"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/internal/webhookcerts"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

const (
	fieldManager   = "kubectl"
	serviceAccount = "supervisor-controller-manager"
	seedNamespace  = "ns1"
)

// The production install converts. config/default, rendered by kustomize,
// is applied server-side to a plain kube-apiserver; the supervisor binary
// runs against it as its ServiceAccount, out of cluster, making its own
// webhook certificate; the seed TanzuKubernetesCluster applied as
// v1alpha1 then reads back as v1alpha3 and as v1alpha1 with nothing lost.
func TestProductionInstallConverts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kube-apiserver, vcsim and the supervisor binary")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	binary := harness.SupervisorBinary(t)

	assets, err := kube.FindAssets()
	if err != nil {
		t.Skipf("no kube-apiserver: %v", err)
	}
	// envtest only starts etcd and kube-apiserver here: no CRD, webhook or
	// conversion is installed by it.
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}

	// The webhooks are served by a process outside the cluster, so the
	// Service cannot route to them: as documented for webhooks run out of
	// cluster, their clientConfig names a URL on this host instead.
	webhookPort := tcptest.FreePort(t)
	objs := renderDefault(t)
	for _, u := range objs {
		pointAtURL(t, u, fmt.Sprintf("https://127.0.0.1:%d", webhookPort))
	}
	apply(ctx, t, admin, objs)

	kubeconfig := serviceAccountKubeconfig(ctx, t, cfg.Host, cfg.CAData, kubernetes.NewForConfigOrDie(cfg))
	sim, err := vcsim.Start(ctx, vcsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)

	certDir := t.TempDir()
	args := []string{
		"--kubeconfig", kubeconfig,
		"--leader-elect",
		"--metrics-bind-address=0",
		"--webhook-host=127.0.0.1", fmt.Sprintf("--webhook-port=%d", webhookPort),
		"--webhook-cert-dir=" + certDir, "--webhook-cert-self-signed",
		"--webhook-service-name=supervisor-webhook-service", "--webhook-service-namespace=" + installNamespace,
		"--webhook-cert-hosts=127.0.0.1",
		"--vc-server=" + sim.URL.String(), "--vc-username=" + sim.Username, "--vc-ca-file=" + sim.CAFile,
	}
	procEnv := []string{"VSPHERE_PASSWORD=" + sim.Password, "POD_NAMESPACE=" + installNamespace}
	run := startSupervisor(t, binary, args, procEnv)
	t.Cleanup(func() { run.stop(t) })
	checkCAInjected(ctx, t, admin, certDir, webhookPort)

	// A vSphere Namespace labelled by hand, with the storage class the seed
	// names: what the README asks a user without Workload Management to do.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: seedNamespace, Labels: map[string]string{"vsphere.opensupervisor.io/vsphere-namespace": "true"}}}
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "k8s-storage"}, Provisioner: "csi.vsphere.vmware.com",
		Parameters: map[string]string{virtualmachine.StorageClassDatastoreURLParameter: sim.DatastoreURL}}
	for _, o := range []client.Object{ns, sc} {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, 60*time.Second, "the seed's VM class in ns1 and a Ready v1.18 release", holds(func() error {
		class := &vmopv1.VirtualMachineClass{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: seedNamespace, Name: "guaranteed-small"}, class); err != nil {
			return err
		}
		var releases runv1alpha3.TanzuKubernetesReleaseList
		if err := admin.List(ctx, &releases); err != nil {
			return err
		}
		for _, r := range releases.Items {
			for _, c := range r.Status.Conditions {
				if strings.HasPrefix(r.Spec.Version, "v1.18") && c.Type == runv1alpha3.ReleaseReadyCondition && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		return fmt.Errorf("%d releases, none for v1.18 Ready", len(releases.Items))
	}))

	seed := seedTKC(t)
	seed.SetNamespace(seedNamespace)
	if err := admin.Apply(ctx, client.ApplyConfigurationFromUnstructured(seed.DeepCopy()), client.FieldOwner(fieldManager)); err != nil {
		t.Fatalf("applying the seed as v1alpha1: %v", err)
	}
	key := client.ObjectKeyFromObject(seed)

	// v1alpha1 as applied: every field of the seed's spec is read back
	// unchanged (defaults may add to it).
	v1 := &unstructured.Unstructured{}
	v1.SetGroupVersionKind(seed.GroupVersionKind())
	if err := admin.Get(ctx, key, v1); err != nil {
		t.Fatal(err)
	}
	if missing := lost(seed.Object["spec"], v1.Object["spec"], "spec"); len(missing) > 0 {
		t.Errorf("reading the seed back as v1alpha1 lost: %s", strings.Join(missing, "; "))
	}

	// v1alpha3: the conversion the embedded stack runs, of that same
	// v1alpha1 object, and the seed's topology, classes, storage and network.
	got := &runv1alpha3.TanzuKubernetesCluster{}
	if err := admin.Get(ctx, key, got); err != nil {
		t.Fatal(err)
	}
	typedV1 := &runv1alpha1.TanzuKubernetesCluster{}
	if err := admin.Get(ctx, key, typedV1); err != nil {
		t.Fatal(err)
	}
	want := &runv1alpha3.TanzuKubernetesCluster{}
	if err := typedV1.ConvertTo(want); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("v1alpha3 as served differs from the conversion of v1alpha1:\n got %s\nwant %s", toYAML(got.Spec), toYAML(want.Spec))
	}
	checkSeedInV1alpha3(t, got)

	// Re-applying the install (an upgrade) keeps the injected CA, and a
	// restarted manager makes a new CA and injects it before it serves:
	// the seed still converts.
	firstCA, err := os.ReadFile(filepath.Join(certDir, webhookcerts.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	apply(ctx, t, admin, objs)
	checkCAInjected(ctx, t, admin, certDir, webhookPort)
	run.stop(t)
	run = startSupervisor(t, binary, args, procEnv)
	if secondCA, err := os.ReadFile(filepath.Join(certDir, webhookcerts.CAFile)); err != nil || bytes.Equal(secondCA, firstCA) {
		t.Errorf("a restarted supervisor kept its CA (%v)", err)
	}
	checkCAInjected(ctx, t, admin, certDir, webhookPort)
	again := &runv1alpha3.TanzuKubernetesCluster{}
	if err := admin.Get(ctx, key, again); err != nil {
		t.Fatalf("reading the seed as v1alpha3 after a restart: %v", err)
	}
	if !equality.Semantic.DeepEqual(again.Spec, got.Spec) {
		t.Errorf("after a restart v1alpha3 reads\n%s\nwas\n%s", toYAML(again.Spec), toYAML(got.Spec))
	}
}

// supervisorRun is the supervisor binary running out of cluster.
type supervisorRun struct {
	cancel context.CancelFunc
	exited chan error
	logs   *bytes.Buffer
	done   bool
}

// startSupervisor starts the binary with args and env and waits until it
// is ready, which includes serving its webhooks.
func startSupervisor(t *testing.T, binary string, args, env []string) *supervisorRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	probePort := tcptest.FreePort(t)
	cmd := exec.CommandContext(ctx, binary, append(args, fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort))...)
	cmd.Env = append(os.Environ(), env...)
	// Stopped as a pod is: SIGTERM, then killed if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	r := &supervisorRun{cancel: cancel, exited: make(chan error, 1), logs: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { r.exited <- cmd.Wait() }()
	wait.For(t, 90*time.Second, "the supervisor ready (webhooks served)", holds(func() error {
		select {
		case err := <-r.exited:
			r.exited <- err
			t.Fatalf("the supervisor exited: %v\n%s", err, tail(r.logs.String(), 60))
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", probePort))
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	}))
	return r
}

// stop stops the binary, logging its output if the test failed.
func (r *supervisorRun) stop(t *testing.T) {
	if r.done {
		return
	}
	r.done = true
	r.cancel()
	<-r.exited
	if t.Failed() {
		t.Logf("supervisor log:\n%s", tail(r.logs.String(), 200))
	}
}

// checkSeedInV1alpha3 checks the seed's content in v1alpha3's fields.
func checkSeedInV1alpha3(t *testing.T, got *runv1alpha3.TanzuKubernetesCluster) {
	t.Helper()
	cp := got.Spec.Topology.ControlPlane
	if cp.Replicas == nil || *cp.Replicas != 3 || cp.VMClass != "guaranteed-small" || cp.StorageClass != "k8s-storage" {
		t.Errorf("v1alpha3 control plane: %s", toYAML(cp))
	}
	pools := got.Spec.Topology.NodePools
	if len(pools) != 1 || pools[0].Replicas == nil || *pools[0].Replicas != 3 || pools[0].VMClass != "guaranteed-small" || pools[0].StorageClass != "k8s-storage" {
		t.Errorf("v1alpha3 node pools (want the seed's 3 workers): %s", toYAML(pools))
	}
	if ref := cp.TKR.Reference; ref == nil || !strings.HasPrefix(ref.Name, "v1.18") {
		t.Errorf("v1alpha3 control plane release %v, want the seed's v1.18", ref)
	}
	s := got.Spec.Settings
	if s == nil || s.Network == nil || s.Network.CNI == nil || s.Network.CNI.Name != "antrea" ||
		s.Network.Pods == nil || !equality.Semantic.DeepEqual(s.Network.Pods.CIDRBlocks, []string{"193.0.2.0/16"}) ||
		s.Network.Services == nil || !equality.Semantic.DeepEqual(s.Network.Services.CIDRBlocks, []string{"195.51.100.0/12"}) {
		t.Errorf("v1alpha3 settings: %s", toYAML(s))
	}
}

// lost lists the paths of want (a manifest's values) that got lacks or
// holds differently.
func lost(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, want %v", path, got, want)}
		}
		var out []string
		for k, v := range w {
			out = append(out, lost(v, g[k], path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %v, want %v", path, got, want)}
		}
		var out []string
		for i := range w {
			out = append(out, lost(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return []string{fmt.Sprintf("%s: %v, want %v", path, got, want)}
	}
	return nil
}

// checkCAInjected checks the binary put the CA its webhook certificate
// chains to into the conversion and admission webhooks, and that the
// webhook server verifies against it.
func checkCAInjected(ctx context.Context, t *testing.T, c client.Client, certDir string, port int32) {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(certDir, webhookcerts.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := c.Get(ctx, client.ObjectKey{Name: "tanzukubernetesclusters.run.tanzu.vmware.com"}, crd); err != nil {
		t.Fatal(err)
	}
	if conv := crd.Spec.Conversion; conv == nil || conv.Webhook == nil || conv.Webhook.ClientConfig == nil {
		t.Errorf("the TanzuKubernetesCluster CRD does not convert through a webhook: %+v", conv)
	} else if !bytes.Equal(conv.Webhook.ClientConfig.CABundle, ca) {
		t.Error("the TanzuKubernetesCluster CRD's conversion caBundle is not the webhook CA")
	}
	var validating admissionv1.ValidatingWebhookConfigurationList
	if err := c.List(ctx, &validating); err != nil {
		t.Fatal(err)
	}
	for _, v := range validating.Items {
		for _, w := range v.Webhooks {
			if !bytes.Equal(w.ClientConfig.CABundle, ca) {
				t.Errorf("webhook %s of %s: caBundle is not the webhook CA", w.Name, v.Name)
			}
		}
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("the webhook server does not verify against the injected CA: %v", err)
	}
	_ = conn.Close()
}

// pointAtURL rewrites the webhook Service references of a webhook
// configuration or CRD conversion to base+path.
func pointAtURL(t *testing.T, u *unstructured.Unstructured, base string) {
	t.Helper()
	rewrite := func(cc map[string]any) {
		svc, ok := cc["service"].(map[string]any)
		if !ok {
			return
		}
		path, _ := svc["path"].(string)
		delete(cc, "service")
		cc["url"] = base + path
	}
	switch u.GetKind() {
	case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
		hooks, _ := u.Object["webhooks"].([]any)
		for _, h := range hooks {
			rewrite(h.(map[string]any)["clientConfig"].(map[string]any))
		}
	case "CustomResourceDefinition":
		if cc, ok, _ := unstructured.NestedMap(u.Object, "spec", "conversion", "webhook", "clientConfig"); ok {
			rewrite(cc)
			if err := unstructured.SetNestedMap(u.Object, cc, "spec", "conversion", "webhook", "clientConfig"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// apply applies objs server-side as `kubectl apply --server-side` does:
// Namespaces and CRDs first, the rest once the CRDs are established.
func apply(ctx context.Context, t *testing.T, c client.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	rank := func(u *unstructured.Unstructured) int {
		switch u.GetKind() {
		case "Namespace":
			return 0
		case "CustomResourceDefinition":
			return 1
		}
		return 2
	}
	for r := range 3 {
		for _, u := range objs {
			if rank(u) != r {
				continue
			}
			if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
				t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
			}
		}
		if r != 1 {
			continue
		}
		wait.For(t, 30*time.Second, "the CRDs established", holds(func() error {
			var crds apiextensionsv1.CustomResourceDefinitionList
			if err := c.List(ctx, &crds); err != nil {
				return err
			}
			for _, crd := range crds.Items {
				established := false
				for _, cond := range crd.Status.Conditions {
					established = established || (cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue)
				}
				if !established {
					return fmt.Errorf("%s not established", crd.Name)
				}
			}
			return nil
		}))
	}
}

// serviceAccountKubeconfig writes a kubeconfig authenticating as the
// install's ServiceAccount, so the binary has exactly the install's RBAC.
func serviceAccountKubeconfig(ctx context.Context, t *testing.T, host string, caData []byte, cs kubernetes.Interface) string {
	t.Helper()
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(installNamespace).CreateToken(ctx, serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a token for the install's ServiceAccount: %v", err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["install"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: caData}
	kc.AuthInfos["supervisor"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["supervisor"] = &clientcmdapi.Context{Cluster: "install", AuthInfo: "supervisor"}
	kc.CurrentContext = "supervisor"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// seedTKC is templates/samples/tkc-v1alpha1.yaml, unchanged.
func seedTKC(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "templates", "samples", "tkc-v1alpha1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seed := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &seed.Object); err != nil {
		t.Fatal(err)
	}
	return seed
}

func toYAML(v any) string {
	b, _ := yaml.Marshal(v)
	return string(b)
}

// tail is the last lines of a log, each cut to 500 bytes (a stack trace
// is not what tells why).
func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	for i := range l {
		if len(l[i]) > 500 {
			l[i] = l[i][:500] + "…"
		}
	}
	return strings.Join(l, "\n")
}

// holds turns a check that errs while what a test waits for does not hold
// into a wait.Condition.
func holds(check func() error) wait.Condition {
	return func() (bool, error) {
		err := check()
		return err == nil, err
	}
}
