package install

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/open-supervisor/supervisor/config"
	"github.com/open-supervisor/supervisor/internal/webhookcerts"
)

const installNamespace = "vmware-system-supervisor"

// renderDefault renders config/default, failing the test on error.
func renderDefault(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Render(filepath.Join(ConfigDir(), "default"))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func toCRD(t *testing.T, u *unstructured.Unstructured) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

// The install carries every CRD the embedded stack installs, and every CRD
// that has more than one version converts through the webhook Service's
// /convert: without it the API server would store a v1alpha1
// TanzuKubernetesCluster as v1alpha3 by dropping what v1alpha3 has no
// field for. Kinds added later are checked the same way.
func TestInstallConvertsEveryMultiVersionCRD(t *testing.T) {
	objs := renderDefault(t)
	rendered := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, u := range ofKind(objs, "CustomResourceDefinition") {
		crd := toCRD(t, u)
		rendered[crd.Name] = crd
	}
	ours, err := config.CRDs()
	if err != nil {
		t.Fatal(err)
	}
	capi, err := config.ClusterAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append(ours, capi...) {
		if _, ok := rendered[want.Name]; !ok {
			t.Errorf("config/default does not install CRD %s (run make manifests: hack/crd-kustomization.sh lists config/crd)", want.Name)
		}
	}
	multi := 0
	for name, crd := range rendered {
		if crd.Labels["app.kubernetes.io/part-of"] != "open-supervisor" {
			t.Errorf("CRD %s lacks the label the webhook CA is injected by", name)
		}
		if len(crd.Spec.Versions) < 2 {
			continue
		}
		multi++
		conv := crd.Spec.Conversion
		if conv == nil || conv.Strategy != apiextensionsv1.WebhookConverter || conv.Webhook == nil || conv.Webhook.ClientConfig == nil || conv.Webhook.ClientConfig.Service == nil {
			t.Errorf("CRD %s serves %d versions but does not convert through a webhook Service: %+v", name, len(crd.Spec.Versions), conv)
			continue
		}
		svc := conv.Webhook.ClientConfig.Service
		if svc.Namespace != installNamespace || svc.Name != "supervisor-webhook-service" || svc.Path == nil || *svc.Path != "/convert" {
			t.Errorf("CRD %s converts through %s/%s%v, want %s/supervisor-webhook-service/convert", name, svc.Namespace, svc.Name, svc.Path, installNamespace)
		}
	}
	if _, ok := rendered["tanzukubernetesclusters.run.tanzu.vmware.com"]; !ok || multi == 0 {
		t.Fatal("no multi-version CRD rendered: the check above checked nothing")
	}
}

// Every webhook calls the install's Service, every object the binary
// patches carries the label it selects by, and the manager is started
// with the flags that make the webhook certificate for that Service.
func TestInstallWebhooksAndManager(t *testing.T) {
	objs := renderDefault(t)
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		list := ofKind(objs, kind)
		if len(list) != 4 {
			t.Errorf("%d %ss, want 4 (the supervisor's and three of Cluster API's)", len(list), kind)
		}
		for _, u := range list {
			if u.GetLabels()["app.kubernetes.io/part-of"] != "open-supervisor" {
				t.Errorf("%s %s lacks the label the webhook CA is injected by", kind, u.GetName())
			}
			hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
			for _, h := range hooks {
				svc, _, _ := unstructured.NestedStringMap(h.(map[string]any), "clientConfig", "service")
				if svc["name"] != "supervisor-webhook-service" || svc["namespace"] != installNamespace {
					t.Errorf("%s %s calls %v", kind, u.GetName(), svc)
				}
			}
		}
	}
	services := ofKind(objs, "Service")
	if len(services) != 1 || services[0].GetName() != "supervisor-webhook-service" || services[0].GetNamespace() != installNamespace {
		t.Fatalf("webhook Service: %v", services)
	}
	deployments := ofKind(objs, "Deployment")
	if len(deployments) != 1 {
		t.Fatalf("%d Deployments", len(deployments))
	}
	d := deployments[0]
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	env := map[string]string{}
	envList, _, _ := unstructured.NestedSlice(c, "env")
	for _, e := range envList {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		env[m["name"].(string)] = v
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"--webhook-cert-self-signed=$(WEBHOOK_CERT_SELF_SIGNED)", "--webhook-service-name=$(WEBHOOK_SERVICE_NAME)", "--webhook-service-namespace=$(POD_NAMESPACE)", "--vc-password-file=", "--vc-ca-file=", "--leader-elect"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the manager's args lack %s: %v", want, args)
		}
	}
	if env["WEBHOOK_SERVICE_NAME"] != "supervisor-webhook-service" || env["WEBHOOK_CERT_SELF_SIGNED"] != "true" {
		t.Errorf("the manager's env: %v", env)
	}
	if sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName"); sa != "supervisor-controller-manager" {
		t.Errorf("serviceAccountName %q", sa)
	}
	if webhookcerts.DefaultSelector != "app.kubernetes.io/part-of=open-supervisor" {
		t.Errorf("the binary's default selector %q is not the install's label", webhookcerts.DefaultSelector)
	}
}

// With config/certmanager enabled, as a user does by uncommenting it,
// cert-manager issues the certificate for the Service's names, every
// webhook configuration and CRD asks its cainjector for the CA, and the
// binary makes none of its own.
func TestCertManagerComponent(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(ConfigDir())); err != nil {
		t.Fatal(err)
	}
	kustomization := filepath.Join(dir, "default", "kustomization.yaml")
	b, err := os.ReadFile(kustomization)
	if err != nil {
		t.Fatal(err)
	}
	enabled := strings.Replace(strings.Replace(string(b), "#components:", "components:", 1), "#- ../certmanager", "- ../certmanager", 1)
	if enabled == string(b) {
		t.Fatal("config/default has no commented-out certmanager component to enable")
	}
	if err := os.WriteFile(kustomization, []byte(enabled), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Render(filepath.Join(dir, "default"))
	if err != nil {
		t.Fatal(err)
	}
	certs := ofKind(objs, "Certificate")
	if len(certs) != 1 {
		t.Fatalf("%d Certificates", len(certs))
	}
	names, _, _ := unstructured.NestedStringSlice(certs[0].Object, "spec", "dnsNames")
	want := "supervisor-webhook-service." + installNamespace + ".svc"
	if len(names) != 2 || names[0] != want || names[1] != want+".cluster.local" {
		t.Errorf("certificate names %v, want %s and .cluster.local", names, want)
	}
	inject := installNamespace + "/" + certs[0].GetName()
	for _, kind := range []string{"CustomResourceDefinition", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		for _, u := range ofKind(objs, kind) {
			if got := u.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != inject {
				t.Errorf("%s %s: inject-ca-from %q, want %q", kind, u.GetName(), got, inject)
			}
			if kind == "CustomResourceDefinition" && strings.HasSuffix(u.GetName(), "tanzu.vmware.com") && u.GetAnnotations()["controller-gen.kubebuilder.io/version"] == "" {
				t.Errorf("CRD %s lost its other annotations", u.GetName())
			}
		}
	}
	d := ofKind(objs, "Deployment")[0]
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	for _, v := range spec["volumes"].([]any) {
		vol := v.(map[string]any)
		if vol["name"] != "webhook-certs" {
			continue
		}
		if _, ok := vol["emptyDir"]; ok {
			t.Errorf("the webhook-certs volume is still an emptyDir: %v", vol)
		}
		if s, _, _ := unstructured.NestedString(vol, "secret", "secretName"); s != "webhook-server-cert" {
			t.Errorf("the webhook-certs volume: %v", vol)
		}
	}
	for _, e := range spec["containers"].([]any)[0].(map[string]any)["env"].([]any) {
		m := e.(map[string]any)
		if m["name"] == "WEBHOOK_CERT_SELF_SIGNED" && m["value"] != "false" {
			t.Errorf("WEBHOOK_CERT_SELF_SIGNED=%v with cert-manager", m["value"])
		}
	}
}
