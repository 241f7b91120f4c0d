package webhookcerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/internal/certs"
)

// The files controller-runtime's webhook server reads from its CertDir.
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
	// CAFile is the CA the serving certificate chains to, for whoever
	// wants to verify it by hand.
	CAFile = "ca.crt"
)

// DefaultSelector selects what config/default installs: every object
// carries the label, and the binary patches the caBundle of those that
// call a webhook.
const DefaultSelector = "app.kubernetes.io/part-of=open-supervisor"

// Options say which certificate to make and where the CA goes.
type Options struct {
	// CertDir receives tls.crt, tls.key and ca.crt (created if missing).
	CertDir string
	// ServiceName and ServiceNamespace name the webhook Service; the
	// certificate is valid for its in-cluster DNS names.
	ServiceName, ServiceNamespace string
	// Hosts are further DNS names or IP addresses the certificate is
	// valid for (a webhook served outside the cluster at a URL).
	Hosts []string
	// Selector picks the CRDs and webhook configurations whose caBundle
	// is patched (DefaultSelector when nil).
	Selector labels.Selector
}

// Certificate is what Generate made.
type Certificate struct {
	// CA is the PEM CA certificate the caBundles carry.
	CA []byte
}

// Generate creates a CA and a serving certificate for o's names, signed
// by it, and writes them to o.CertDir. A new CA on every start keeps no
// key outside the pod; Inject then points the API server at it.
func Generate(o Options) (*Certificate, error) {
	names := o.dnsNames()
	var ips []net.IP
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else if h != "" {
			names = append(names, h)
		}
	}
	if len(names) == 0 && len(ips) == 0 {
		return nil, errors.New("no name for the webhook certificate: name the webhook Service or give hosts")
	}
	ca, err := certs.NewCA("open-supervisor-webhook-ca")
	if err != nil {
		return nil, err
	}
	pair, err := ca.Issue(ips, names)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.CertDir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the webhook certificate directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.CertDir, CAFile), ca.PEM, 0o644); err != nil {
		return nil, fmt.Errorf("failed to write the webhook CA: %w", err)
	}
	if err := pair.WriteFiles(filepath.Join(o.CertDir, CertFile), filepath.Join(o.CertDir, KeyFile)); err != nil {
		return nil, fmt.Errorf("failed to write the webhook certificate: %w", err)
	}
	return &Certificate{CA: ca.PEM}, nil
}

// dnsNames are the names a Service is reached by inside the cluster.
func (o Options) dnsNames() []string {
	if o.ServiceName == "" || o.ServiceNamespace == "" {
		return nil
	}
	svc := o.ServiceName + "." + o.ServiceNamespace
	return []string{svc + ".svc", svc + ".svc.cluster.local", svc}
}

// Inject writes ca into the caBundle of every webhook of the selected
// mutating and validating webhook configurations and of the conversion
// webhook of every selected CRD that converts by webhook. It returns how
// many objects it changed.
func Inject(ctx context.Context, c client.Client, selector labels.Selector, ca []byte) (int, error) {
	if selector == nil {
		var err error
		if selector, err = labels.Parse(DefaultSelector); err != nil {
			return 0, err
		}
	}
	sel := client.MatchingLabelsSelector{Selector: selector}
	changed := 0

	var crds apiextensionsv1.CustomResourceDefinitionList
	if err := c.List(ctx, &crds, sel); err != nil {
		return changed, fmt.Errorf("failed to list CRDs: %w", err)
	}
	for i := range crds.Items {
		crd := &crds.Items[i]
		conv := crd.Spec.Conversion
		if conv == nil || conv.Strategy != apiextensionsv1.WebhookConverter || conv.Webhook == nil || conv.Webhook.ClientConfig == nil {
			continue
		}
		if bytes.Equal(conv.Webhook.ClientConfig.CABundle, ca) {
			continue
		}
		before := crd.DeepCopy()
		conv.Webhook.ClientConfig.CABundle = ca
		if err := c.Patch(ctx, crd, client.MergeFrom(before)); err != nil {
			return changed, fmt.Errorf("failed to set the conversion caBundle of CRD %s: %w", crd.Name, err)
		}
		changed++
	}

	var mutating admissionv1.MutatingWebhookConfigurationList
	if err := c.List(ctx, &mutating, sel); err != nil {
		return changed, fmt.Errorf("failed to list mutating webhook configurations: %w", err)
	}
	for i := range mutating.Items {
		m := &mutating.Items[i]
		before := m.DeepCopy()
		if !setCABundles(len(m.Webhooks), func(j int) *admissionv1.WebhookClientConfig { return &m.Webhooks[j].ClientConfig }, ca) {
			continue
		}
		// A JSON merge patch replaces the whole webhooks list; with the
		// resourceVersion in it a concurrent edit fails instead of being lost.
		if err := c.Patch(ctx, m, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return changed, fmt.Errorf("failed to set the caBundle of mutating webhook configuration %s: %w", m.Name, err)
		}
		changed++
	}

	var validating admissionv1.ValidatingWebhookConfigurationList
	if err := c.List(ctx, &validating, sel); err != nil {
		return changed, fmt.Errorf("failed to list validating webhook configurations: %w", err)
	}
	for i := range validating.Items {
		v := &validating.Items[i]
		before := v.DeepCopy()
		if !setCABundles(len(v.Webhooks), func(j int) *admissionv1.WebhookClientConfig { return &v.Webhooks[j].ClientConfig }, ca) {
			continue
		}
		if err := c.Patch(ctx, v, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return changed, fmt.Errorf("failed to set the caBundle of validating webhook configuration %s: %w", v.Name, err)
		}
		changed++
	}
	return changed, nil
}

// setCABundles sets ca on each of n client configs and says whether any
// changed.
func setCABundles(n int, config func(int) *admissionv1.WebhookClientConfig, ca []byte) bool {
	changed := false
	for j := range n {
		if cc := config(j); !bytes.Equal(cc.CABundle, ca) {
			cc.CABundle = ca
			changed = true
		}
	}
	return changed
}

// Setup generates the certificate, injects its CA before the webhooks
// serve (so the API server trusts them from the first request) and returns
// the Injector that keeps it injected, for the manager to run.
func Setup(ctx context.Context, cfg *rest.Config, o Options, log logr.Logger) (*Injector, error) {
	scheme := runtime.NewScheme()
	if err := admissionv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("failed to create a client for the webhook CA: %w", err)
	}
	cert, err := Generate(o)
	if err != nil {
		return nil, err
	}
	n, err := Inject(ctx, c, o.Selector, cert.CA)
	if err != nil {
		return nil, err
	}
	log.Info("Serving webhooks with a self-signed certificate", "certDir", o.CertDir, "service", o.ServiceNamespace+"/"+o.ServiceName, "hosts", o.Hosts, "patched", n)
	return &Injector{Client: c, Selector: o.Selector, CA: cert.CA, Log: log}, nil
}

// Injector keeps the caBundles pointing at CA: a re-apply of the install
// or a CRD added later (by a newer install) is patched within Interval.
// It is a manager Runnable that every replica runs, since each serves
// webhooks; with one CA per process, the install runs one replica.
type Injector struct {
	Client   client.Client
	Selector labels.Selector
	CA       []byte
	// Interval between checks (a minute when zero).
	Interval time.Duration
	Log      logr.Logger
}

// Start re-injects until ctx ends; failures are logged and retried.
func (i *Injector) Start(ctx context.Context) error {
	interval := i.Interval
	if interval == 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := Inject(ctx, i.Client, i.Selector, i.CA)
		if err != nil {
			i.Log.Error(err, "Failed to keep the webhook CA in the webhook configurations and CRDs")
		} else if n > 0 {
			i.Log.Info("Restored the webhook CA", "objects", n)
		}
	}
}

// NeedLeaderElection is false: every replica serves webhooks.
func (i *Injector) NeedLeaderElection() bool { return false }
