// Package controller is lbapi's controller. It serves VirtualMachineServices
// of type LoadBalancer (backends: the IPs of the VMs their selector
// matches) and core Services of type LoadBalancer (backends: their ready
// EndpointSlice endpoints) from the HAProxy appliance a LoadBalancer object
// describes.
//
// Every change enqueues one shared key after a short batch window, so the
// changes of a burst are handled together, in one Data Plane API
// transaction. VIPs are allocated apart from programming HAProxy and are
// rebuilt from the Services' status before anything new is handed out, so
// a restart never moves one. A Service's VIP is written to its status only
// after the transaction committed and the VIP accepts a TCP connection:
// HAProxy 2.6 reports failed reloads as success.
package controller

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/lbapi/allocator"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// ConditionVIPReady is the condition lbapi owns on the Services it serves.
const ConditionVIPReady = "LoadBalancerReady"

// Reasons of ConditionVIPReady.
const (
	ReasonVIPServing     = "VIPServing"
	ReasonVIPUnavailable = "VIPUnavailable"
	ReasonConfigRejected = "ConfigRejected"
	ReasonNotServing     = "VIPNotAnswering"
)

// confirmReloadAfter is how soon a sync looks at the reload of its commit.
const confirmReloadAfter = 300 * time.Millisecond

var syncKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "lbapi-sync"}}

// Reconciler serves every Service of type LoadBalancer from one LoadBalancer.
type Reconciler struct {
	Client client.Client
	// APIReader reads the credentials Secret; Secrets are not cached.
	APIReader client.Reader
	// Recorder gets a Warning Event for each refused VIP or rejected config.
	Recorder events.EventRecorder
	// LoadBalancer names the LoadBalancer to serve; empty serves the only one.
	LoadBalancer string
	// BatchWindow gathers the changes of a burst into one sync; 100 ms when zero.
	BatchWindow time.Duration
	// ProbeTimeout bounds the wait for a new VIP to accept connections.
	ProbeTimeout time.Duration
	// RetryRejected is how soon configurations HAProxy refused are tried
	// again (a failed reload can be the appliance's state, not the
	// Service's); 30 s when zero.
	RetryRejected time.Duration

	backend  *backend // only the single sync worker touches it
	requests atomic.Int64
	txBase   int
}

// Stats are counters benchmarks and tests read.
type Stats struct {
	// Requests to the Data Plane API, and transactions committed.
	Requests     int64
	Transactions int
}

// Stats returns the counters so far. Call it when no sync runs.
func (r *Reconciler) Stats() Stats {
	s := Stats{Requests: r.requests.Load(), Transactions: r.txBase}
	if r.backend != nil {
		s.Transactions += r.backend.applier.Transactions
	}
	return s
}

// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineservices;virtualmachines,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=services/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch
// +kubebuilder:rbac:groups=lbapi.opensupervisor.io,resources=loadbalancers,verbs=get;list;watch
// +kubebuilder:rbac:groups=lbapi.opensupervisor.io,resources=loadbalancers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.BatchWindow == 0 {
		r.BatchWindow = 100 * time.Millisecond
	}
	if r.RetryRejected == 0 {
		r.RetryRejected = 30 * time.Second
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	toSync := r.enqueueSync()
	return ctrl.NewControllerManagedBy(mgr).
		Named("lbapi").
		Watches(&vmopv1.VirtualMachineService{}, toSync).
		Watches(&vmopv1.VirtualMachine{}, toSync).
		Watches(&corev1.Service{}, toSync).
		Watches(&discoveryv1.EndpointSlice{}, toSync).
		Watches(&lbv1.LoadBalancer{}, toSync, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// enqueueSync adds the shared key after the batch window; the queue keeps
// one pending entry however many events arrive meanwhile.
func (r *Reconciler) enqueueSync() handler.EventHandler {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) { q.AddAfter(syncKey, r.BatchWindow) }
	return handler.Funcs{
		CreateFunc: func(_ context.Context, _ event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		UpdateFunc: func(_ context.Context, _ event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		DeleteFunc: func(_ context.Context, _ event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
		GenericFunc: func(_ context.Context, _ event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q)
		},
	}
}

// Reconcile syncs every Service at once.
func (r *Reconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	log := r.log(ctx)
	lb, err := r.loadBalancer(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	if lb == nil {
		log.V(2).Info("No LoadBalancer to serve Services from yet")
		return ctrl.Result{}, nil
	}
	ranges, rangeErrs := lb.Spec.Ranges()
	if len(rangeErrs) > 0 {
		r.writeLoadBalancerStatus(ctx, lb, nil, 0, 0, rangeErrs.ToAggregate())
		return ctrl.Result{}, nil // the webhook normally refuses this; wait for a fix
	}
	be, err := r.connect(ctx, lb)
	if err != nil {
		log.Error(err, "Cannot reach the load balancer's Data Plane API; retrying", "loadBalancer", lb.Name)
		r.writeLoadBalancerStatus(ctx, lb, nil, 0, 0, err)
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}

	serve, stale, err := r.served(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.clearStale(ctx, stale)

	// Rebuild the allocation from status before handing out anything new,
	// so a restart never moves a VIP.
	alloc := allocator.New(ranges)
	for _, s := range serve {
		for _, ing := range s.status.Ingress {
			if vip, err := netip.ParseAddr(ing.IP); err == nil {
				_ = alloc.Assign(s.key, vip)
			}
		}
	}
	vips := map[string]netip.Addr{}
	proxyOwner := map[string]*lbService{}
	desired := map[string]haproxy.Proxy{}
	for _, s := range serve {
		vip, err := r.vipFor(alloc, s)
		if err != nil {
			r.refuse(ctx, s, ReasonVIPUnavailable, err.Error())
			continue
		}
		vips[s.key] = vip
		for _, p := range s.proxies(vip) {
			desired[p.Name] = p
			proxyOwner[p.Name] = s
		}
	}

	res, err := be.applier.Apply(ctx, desired)
	if err != nil {
		log.Error(err, "Programming HAProxy failed; retrying", "loadBalancer", lb.Name)
		if isTransportError(err) {
			r.dropBackend() // try the servers again from the first
		}
		r.writeLoadBalancerStatus(ctx, lb, be, alloc.InUse(), alloc.Free(), err)
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	rejected := map[string]bool{}
	for name, why := range res.Rejected {
		s := proxyOwner[name]
		if s == nil || rejected[s.key] {
			continue
		}
		rejected[s.key] = true
		s.status.Ingress = nil // a VIP published before its reload was confirmed is taken back
		r.refuse(ctx, s, ReasonConfigRejected, "HAProxy rejected the configuration of "+name+": "+why.Error())
	}

	retry := r.publish(ctx, serve, vips, rejected, func(proxies []haproxy.Proxy) bool {
		for _, p := range proxies {
			if !be.applier.Loaded(p) {
				return false
			}
		}
		return true
	})
	r.writeLoadBalancerStatus(ctx, lb, be, alloc.InUse(), alloc.Free(), nil)
	switch {
	case be.applier.Pending():
		return ctrl.Result{RequeueAfter: confirmReloadAfter}, nil
	case retry:
		return ctrl.Result{RequeueAfter: time.Second}, nil
	case len(rejected) > 0:
		return ctrl.Result{RequeueAfter: r.RetryRejected}, nil
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) dropBackend() {
	if r.backend != nil {
		r.txBase += r.backend.applier.Transactions
		r.backend = nil
	}
}

func (r *Reconciler) vipFor(alloc *allocator.Allocator, s *lbService) (netip.Addr, error) {
	if want := s.requested; want != "" {
		vip, err := netip.ParseAddr(want)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%s %q is not an IP address", s.requestedField, want)
		}
		if err := alloc.Assign(s.key, vip); err != nil {
			return netip.Addr{}, fmt.Errorf("%s: %w", s.requestedField, err)
		}
		return vip, nil
	}
	return alloc.Allocate(s.key)
}

// publish writes the VIP of every Service that newly serves, once HAProxy
// has loaded its proxies and its VIP answers; it says whether some did not
// answer yet.
func (r *Reconciler) publish(ctx context.Context, serve []*lbService, vips map[string]netip.Addr, rejected map[string]bool, loaded func([]haproxy.Proxy) bool) bool {
	var retry atomic.Bool
	work := make(chan *lbService)
	done := make(chan struct{})
	const workers = 16
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for s := range work {
				vip := vips[s.key]
				addr := net.JoinHostPort(vip.String(), strconv.Itoa(int(s.ports[0])))
				if !r.answers(ctx, addr) {
					retry.Store(true) // committed, but not served yet (or the reload failed)
					r.setCondition(ctx, s, metav1.ConditionFalse, ReasonNotServing, "HAProxy accepted the configuration but "+addr+" does not accept connections yet")
					continue
				}
				s.status.Ingress = []corev1.LoadBalancerIngress{ingressFor(s, vip)}
				r.setCondition(ctx, s, metav1.ConditionTrue, ReasonVIPServing, "VIP "+vip.String()+" accepts connections")
			}
		}()
	}
	for _, s := range serve {
		vip, ok := vips[s.key]
		if !ok || rejected[s.key] || len(s.ports) == 0 || hasIngress(s, vip) || !loaded(s.proxies(vip)) {
			continue
		}
		work <- s
	}
	close(work)
	for range workers {
		<-done
	}
	return retry.Load()
}

func ingressFor(s *lbService, vip netip.Addr) corev1.LoadBalancerIngress {
	ing := corev1.LoadBalancerIngress{IP: vip.String()}
	if _, core := s.obj.(*corev1.Service); core {
		mode := corev1.LoadBalancerIPModeVIP
		ing.IPMode = &mode
	}
	return ing
}

// clearStale removes our VIP from Services that are no longer of type
// LoadBalancer, so their status does not claim a VIP that is now free.
func (r *Reconciler) clearStale(ctx context.Context, stale []*lbService) {
	for _, s := range stale {
		if len(s.status.Ingress) == 0 && meta.FindStatusCondition(*s.conditions, ConditionVIPReady) == nil {
			continue
		}
		s.status.Ingress = nil
		meta.RemoveStatusCondition(s.conditions, ConditionVIPReady)
		if err := r.Client.Status().Update(ctx, s.obj); err != nil {
			r.log(ctx).V(4).Info("Status update lost a race; the next sync redoes it", "error", err.Error())
		}
	}
}

// refuse reports why a Service gets no VIP: a condition, and a Warning
// Event when the reason is new.
func (r *Reconciler) refuse(ctx context.Context, s *lbService, reason, msg string) {
	if r.setCondition(ctx, s, metav1.ConditionFalse, reason, msg) && r.Recorder != nil {
		r.Recorder.Eventf(s.obj, nil, corev1.EventTypeWarning, reason, "ServeVIP", "%s", msg)
	}
}

func (r *Reconciler) answers(ctx context.Context, addr string) bool {
	timeout := r.ProbeTimeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// setCondition writes the condition (and any ingress set by the caller)
// when something changed, and says whether the condition changed.
func (r *Reconciler) setCondition(ctx context.Context, s *lbService, status metav1.ConditionStatus, reason, msg string) bool {
	changed := meta.SetStatusCondition(s.conditions, metav1.Condition{
		Type: ConditionVIPReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: s.obj.GetGeneration(),
	})
	if !changed && status == metav1.ConditionFalse {
		return false
	}
	if err := r.Client.Status().Update(ctx, s.obj); err != nil {
		r.log(ctx).V(4).Info("Status update lost a race; the next sync redoes it", "error", err.Error())
	}
	return changed
}

func hasIngress(s *lbService, vip netip.Addr) bool {
	for _, ing := range s.status.Ingress {
		if ing.IP == vip.String() {
			return true
		}
	}
	return false
}

func (r *Reconciler) log(ctx context.Context) logr.Logger { return ctrl.LoggerFrom(ctx) }
