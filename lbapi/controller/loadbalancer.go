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
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// loadBalancer is the LoadBalancer to serve: the one named, or the only one.
func (r *Reconciler) loadBalancer(ctx context.Context) (*lbv1.LoadBalancer, error) {
	if r.LoadBalancer != "" {
		lb := &lbv1.LoadBalancer{}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: r.LoadBalancer}, lb); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		return lb, nil
	}
	var lbs lbv1.LoadBalancerList
	if err := r.Client.List(ctx, &lbs); err != nil {
		return nil, err
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
		c := &dataplane.Client{BaseURL: "https://" + net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port))), HTTP: httpClient, Username: username, Password: password}
		v, err := c.Detect(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.backend = &backend{identity: identity, applier: &haproxy.Applier{Client: c, RetryRejected: r.RetryRejected}, apiVersion: v, server: c.BaseURL}
		return r.backend, nil
	}
	return nil, errors.Join(errs...)
}

// writeLoadBalancerStatus records what the sync saw; it writes only changes.
func (r *Reconciler) writeLoadBalancerStatus(ctx context.Context, lb *lbv1.LoadBalancer, be *backend, inUse, free int, syncErr error) {
	before := lb.DeepCopy()
	if be != nil {
		lb.Status.APIVersion = be.apiVersion
	}
	lb.Status.VIPsInUse, lb.Status.VIPsFree = int32(inUse), int32(free)
	cond := metav1.Condition{Type: lbv1.ConditionDataPlaneAPIReachable, Status: metav1.ConditionTrue, Reason: "Reachable", ObservedGeneration: lb.Generation}
	if be != nil {
		cond.Message = "Data Plane API " + be.apiVersion + " at " + be.server
	}
	lb.Status.LastError = ""
	if syncErr != nil {
		lb.Status.LastError = syncErr.Error()
		if be == nil || isTransportError(syncErr) {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "Unreachable", syncErr.Error()
		}
	}
	meta.SetStatusCondition(&lb.Status.Conditions, cond)
	if equality.Semantic.DeepEqual(before.Status, lb.Status) {
		return
	}
	if err := r.Client.Status().Update(ctx, lb); err != nil {
		r.log(ctx).Error(err, "Writing the LoadBalancer's status failed", "loadBalancer", lb.Name)
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
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}
