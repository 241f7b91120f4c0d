package webhookcerts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// The certificate written to the cert dir verifies against the CA for the
// Service's in-cluster names and the extra hosts, and for nothing else.
func TestGenerateServesTheServiceNames(t *testing.T) {
	dir := t.TempDir()
	cert, err := Generate(Options{CertDir: dir, ServiceName: "supervisor-webhook-service", ServiceNamespace: "vmware-system-supervisor", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cert.CA) {
		t.Fatal("the CA is not PEM")
	}
	for _, name := range []string{"supervisor-webhook-service.vmware-system-supervisor.svc", "supervisor-webhook-service.vmware-system-supervisor.svc.cluster.local", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "other.example.com"}); err == nil {
		t.Error("the certificate verifies for a name it was not made for")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), DNSName: "127.0.0.1"}); err == nil {
		t.Error("the certificate verifies without its CA")
	}
}

func TestGenerateNeedsAName(t *testing.T) {
	if _, err := Generate(Options{CertDir: t.TempDir()}); err == nil {
		t.Error("a certificate without names was made")
	}
}

// Inject sets the CA on every webhook of labelled configurations and on
// labelled CRDs converting by webhook, and leaves everything else alone.
func TestInjectPatchesOnlyLabelledWebhooks(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ours := map[string]string{"app.kubernetes.io/part-of": "open-supervisor"}
	svc := func() admissionv1.WebhookClientConfig {
		return admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Name: "s", Namespace: "n"}}
	}
	crd := func(name string, l map[string]string, webhook bool) *apiextensionsv1.CustomResourceDefinition {
		c := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
		c.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}
		if webhook {
			c.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.WebhookConverter,
				Webhook: &apiextensionsv1.WebhookConversion{ClientConfig: &apiextensionsv1.WebhookClientConfig{
					Service: &apiextensionsv1.ServiceReference{Name: "s", Namespace: "n"}}, ConversionReviewVersions: []string{"v1"}}}
		}
		return c
	}
	objs := []client.Object{
		crd("ours.example.com", ours, true),
		crd("single.example.com", ours, false),
		crd("theirs.example.com", nil, true),
		&admissionv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "m", Labels: ours},
			Webhooks: []admissionv1.MutatingWebhook{{Name: "a.example.com", ClientConfig: svc()}, {Name: "b.example.com", ClientConfig: svc()}}},
		&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "v", Labels: ours},
			Webhooks: []admissionv1.ValidatingWebhook{{Name: "a.example.com", ClientConfig: svc()}}},
		&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "theirs"},
			Webhooks: []admissionv1.ValidatingWebhook{{Name: "a.example.com", ClientConfig: svc()}}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	ca := []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
	n, err := Inject(ctx, c, nil, ca)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("changed %d objects, want 3", n)
	}
	get := func(obj client.Object, name string) {
		t.Helper()
		if err := c.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
			t.Fatal(err)
		}
	}
	ourCRD, theirCRD := &apiextensionsv1.CustomResourceDefinition{}, &apiextensionsv1.CustomResourceDefinition{}
	get(ourCRD, "ours.example.com")
	get(theirCRD, "theirs.example.com")
	if got := string(ourCRD.Spec.Conversion.Webhook.ClientConfig.CABundle); got != string(ca) {
		t.Errorf("our CRD's conversion caBundle = %q", got)
	}
	if got := theirCRD.Spec.Conversion.Webhook.ClientConfig.CABundle; len(got) != 0 {
		t.Errorf("an unlabelled CRD was patched: %q", got)
	}
	m := &admissionv1.MutatingWebhookConfiguration{}
	get(m, "m")
	for _, w := range m.Webhooks {
		if string(w.ClientConfig.CABundle) != string(ca) {
			t.Errorf("mutating webhook %s: caBundle %q", w.Name, w.ClientConfig.CABundle)
		}
	}
	v, theirs := &admissionv1.ValidatingWebhookConfiguration{}, &admissionv1.ValidatingWebhookConfiguration{}
	get(v, "v")
	get(theirs, "theirs")
	if string(v.Webhooks[0].ClientConfig.CABundle) != string(ca) {
		t.Errorf("validating webhook: caBundle %q", v.Webhooks[0].ClientConfig.CABundle)
	}
	if len(theirs.Webhooks[0].ClientConfig.CABundle) != 0 {
		t.Error("an unlabelled validating webhook configuration was patched")
	}

	// A second pass has nothing to do.
	if n, err := Inject(ctx, c, nil, ca); err != nil || n != 0 {
		t.Errorf("second Inject changed %d objects (%v), want 0", n, err)
	}
}
