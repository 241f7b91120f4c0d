package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// backend is a connection to the appliance a LoadBalancer describes.
type backend struct {
	// identity changes when the LoadBalancer's spec or its Secret change.
	identity   string
	applier    *haproxy.Applier
	apiVersion string
	server     string
}

// apiDialer returns the Data Plane API at baseURL and the major version it
// speaks, or why it does not answer.
type apiDialer func(ctx context.Context, baseURL string, hc *http.Client, username, password string) (dataplane.API, string, error)

// detectAPI is the apiDialer of the real network.
func detectAPI(ctx context.Context, baseURL string, hc *http.Client, username, password string) (dataplane.API, string, error) {
	c := &dataplane.Client{BaseURL: baseURL, HTTP: hc, Username: username, Password: password}
	v, err := c.Detect(ctx)
	return c, v, err
}

// loadBalancer is the LoadBalancer to serve: the one named, or the only one.
func (r *Reconciler) loadBalancer(ctx context.Context) (*lbv1.LoadBalancer, error) {
	if r.LoadBalancer != "" {
		lb := &lbv1.LoadBalancer{}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: r.LoadBalancer}, lb); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("failed to get LoadBalancer %s: %w", r.LoadBalancer, err)
		}
		return lb, nil
	}
	var lbs lbv1.LoadBalancerList
	if err := r.Client.List(ctx, &lbs); err != nil {
		return nil, fmt.Errorf("failed to list LoadBalancers: %w", err)
	}
	switch len(lbs.Items) {
	case 0:
		return nil, nil
	case 1:
		return &lbs.Items[0], nil
	}
	return nil, fmt.Errorf("%d LoadBalancers exist and none is named by --load-balancer", len(lbs.Items))
}

// connect returns the backend for lb, reusing the current one while the
// LoadBalancer and its credentials are unchanged.
func (r *Reconciler) connect(ctx context.Context, lb *lbv1.LoadBalancer) (*backend, error) {
	ref := lb.Spec.HAProxy.CredentialsSecretRef
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("spec.haProxy.credentialsSecretRef: Secret %s/%s not found", ref.Namespace, ref.Name)
		}
		return nil, fmt.Errorf("reading the credentials Secret: %w", err)
	}
	username, password := string(secret.Data["username"]), string(secret.Data["password"])
	if username == "" || password == "" {
		return nil, fmt.Errorf("spec.haProxy.credentialsSecretRef: Secret %s/%s needs both username and password", ref.Namespace, ref.Name)
	}
	identity := fmt.Sprintf("%s/%d/%s", lb.UID, lb.Generation, secret.ResourceVersion)
	if r.backend != nil && r.backend.identity == identity {
		return r.backend, nil
	}
	httpClient, err := dataplane.NewHTTPClient([]byte(lb.Spec.HAProxy.CertificateAuthorityChain), lb.Spec.HAProxy.Insecure)
	if err != nil {
		return nil, fmt.Errorf("spec.haProxy.certificateAuthorityChain: %w", err)
	}
	httpClient.Timeout = 30 * time.Second
	httpClient.Transport = &countingTransport{next: httpClient.Transport, count: &r.requests}
	var errs []error
	for _, s := range lb.Spec.HAProxy.Servers {
		url := "https://" + net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port)))
		api, v, err := r.dialAPI(ctx, url, httpClient, username, password)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.dropBackend()
		r.backend = &backend{identity: identity, applier: &haproxy.Applier{Client: api, RetryRejected: r.RetryRejected, ConfirmTimeout: r.ConfirmTimeout, ReloadEvery: r.ReloadEvery, Dial: r.dialVIP}, apiVersion: v, server: url}
		return r.backend, nil
	}
	return nil, errors.Join(errs...)
}

// dropBackend forgets the connection, so the next sync tries the servers
// again from the first; its transactions stay counted.
func (r *Reconciler) dropBackend() {
	if r.backend != nil {
		r.txBase += r.backend.applier.Transactions
		r.backend = nil
		r.confirmer.stop()
	}
}

// isTransportError says whether err means the Data Plane API did not answer.
func isTransportError(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr) || errors.Is(err, context.DeadlineExceeded)
}

// countingTransport counts Data Plane API requests (benchmarks read them).
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.count.Add(1)
	dataplaneRequests.Inc()
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}
