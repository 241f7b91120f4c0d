package controller

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"sigs.k8s.io/cluster-api/util/patch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

const (
	// retryNotAnswering is how soon a VIP that did not answer is checked again.
	retryNotAnswering = time.Second
	// Failed syncs are retried with a backoff from retryErrorsFrom up to
	// retryErrorsEvery: an appliance back from an outage is noticed within
	// that time, as when outages were retried on a fixed 2 s.
	retryErrorsFrom  = 250 * time.Millisecond
	retryErrorsEvery = 2 * time.Second
	// maxBatchWaits bounds a batch: changes that keep coming (VMs
	// reporting during a cluster's creation) are synced at least every
	// maxBatchWaits batch windows.
	maxBatchWaits = 4

	// DefaultReloadEvery is the supervisor's ReloadEvery: HAProxy reloads
	// for lbapi at most once a second, the shortest reload delay the Data
	// Plane API takes.
	DefaultReloadEvery = time.Second
)

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
	// BatchWindow gathers the changes of a burst into one sync: the sync
	// runs once no change came for BatchWindow, at most maxBatchWaits
	// windows after the burst's first change; 100 ms when zero.
	BatchWindow time.Duration
	// ProbeTimeout bounds the wait for a new VIP to accept connections; 3 s
	// when zero.
	ProbeTimeout time.Duration
	// RetryRejected is how soon configurations HAProxy refused are tried
	// again (a failed reload can be the appliance's state, not the
	// Service's); 30 s when zero.
	RetryRejected time.Duration
	// ResyncInterval is how soon a sync that converged looks again whether
	// the appliance still holds lbapi's configuration: one GET of its
	// configuration version while it does. An appliance that came back
	// empty (restarted, or replaced) is programmed again without waiting
	// for a Service to change; 10 s when zero.
	ResyncInterval time.Duration
	// ConfirmTimeout is how long after a reload was reported done HAProxy's
	// running process may take to show the commit (stats/native) before
	// the commit counts as failed; 10 s when zero.
	ConfirmTimeout time.Duration
	// ReloadEvery, when non-zero, has lbapi reload HAProxy with each commit
	// (force_reload=true) and commit at most once per ReloadEvery, rather
	// than wait for the appliance's reload delay; see
	// haproxy.Applier.ReloadEvery. Zero leaves reloads to the appliance.
	ReloadEvery time.Duration

	defaults sync.Once
	batcher  *batcher
	// wake carries the prober's "a check finished" and the confirmer's
	// "HAProxy runs the commit" to the sync's queue.
	wake      chan event.GenericEvent
	prober    *prober
	confirmer *confirmer
	// dialAPI and dialVIP replace the network in unit tests.
	dialAPI apiDialer
	dialVIP func(ctx context.Context, addr string) error

	// Only the single sync worker touches the fields below.
	backend *backend
	// lastVIPs are the VIPs the last sync handed out (service key -> VIP).
	lastVIPs map[string]netip.Addr
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

// setDefaults fills the zero fields once, for SetupWithManager and for
// tests that call Reconcile directly.
func (r *Reconciler) setDefaults() {
	r.defaults.Do(func() {
		if r.BatchWindow == 0 {
			r.BatchWindow = 100 * time.Millisecond
		}
		if r.RetryRejected == 0 {
			r.RetryRejected = 30 * time.Second
		}
		if r.ProbeTimeout == 0 {
			r.ProbeTimeout = 3 * time.Second
		}
		if r.ResyncInterval == 0 {
			r.ResyncInterval = 10 * time.Second
		}
		if r.dialAPI == nil {
			r.dialAPI = detectAPI
		}
		// One pending wake-up is enough: every event means "sync again".
		r.wake = make(chan event.GenericEvent, 1)
		wake := func() {
			select {
			case r.wake <- event.GenericEvent{Object: &lbv1.LoadBalancer{}}:
			default:
			}
		}
		r.batcher = &batcher{window: r.BatchWindow, maxWait: maxBatchWaits * r.BatchWindow}
		r.prober = newProber(r.ProbeTimeout, r.dialVIP, wake)
		r.confirmer = newConfirmer(confirmEvery, wake)
	})
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
	r.setDefaults()
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
		WatchesRawSource(source.Channel(r.wake, r.enqueueWake())).
		WithOptions(controller.Options{
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryErrorsFrom, retryErrorsEvery),
		}).
		Complete(r)
}

// enqueueSync adds the shared key once the burst of changes paused (see
// batcher); the queue keeps one pending entry however many events arrive.
func (r *Reconciler) enqueueSync() handler.EventHandler {
	add := r.batcher.add
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

// enqueueWake adds the shared key at once: a wake-up is the end of a wait
// the sync itself started (a VIP check, a commit's confirmation), not a
// change to gather with others, and a VIP it lets publish must not wait a
// batch window more.
func (r *Reconciler) enqueueWake() handler.EventHandler {
	return handler.Funcs{
		GenericFunc: func(_ context.Context, _ event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(syncKey)
		},
	}
}

// scope is what one sync works on.
type scope struct {
	// lb is the LoadBalancer served; set before the phases run.
	lb *lbv1.LoadBalancer
	// serve are the Services of type LoadBalancer, sorted by key; set by collect.
	serve []*lbService
	// released are Services that stopped being of type LoadBalancer but
	// still show lbapi's VIP or condition; set by collect.
	released []*lbService
}

// Reconcile syncs every Service at once. Whatever the phases changed in
// the status of the Services and of the LoadBalancer is patched when it
// returns, also when a phase failed.
func (r *Reconciler) Reconcile(ctx context.Context, _ ctrl.Request) (_ ctrl.Result, reterr error) {
	r.setDefaults()
	lb, err := r.loadBalancer(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	if lb == nil {
		ctrl.LoggerFrom(ctx).V(2).Info("No LoadBalancer to serve Services from yet")
		return ctrl.Result{}, nil
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("LoadBalancer", klog.KObj(lb)))
	lbPatch, err := patch.NewHelper(lb, r.Client)
	if err != nil {
		return ctrl.Result{}, err
	}
	s := &scope{lb: lb}
	defer func() {
		servicesErr := r.patchServices(ctx, append(s.serve, s.released...))
		lbErr := r.patchLoadBalancer(ctx, lbPatch, lb, reterr == nil && servicesErr == nil)
		reterr = kerrors.NewAggregate([]error{reterr, servicesErr, lbErr})
	}()
	// A LoadBalancer being deleted is served as long as it exists: lbapi
	// puts no finalizer on it, and HAProxy keeps serving what it holds.
	return r.reconcileNormal(ctx, s)
}

// reconcileNormal runs the phases of a sync. Services need no delete
// phase: a deleted Service's proxies leave HAProxy with the next
// transaction because nothing desires them (lbapi holds no finalizer on
// Services), and one that stopped being a LoadBalancer is released.
func (r *Reconciler) reconcileNormal(ctx context.Context, s *scope) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	ranges, rangeErrs := s.lb.Spec.Ranges()
	if len(rangeErrs) > 0 {
		// The webhook refuses such a spec; one that got in waits for a
		// fix, which is a new generation and wakes the sync.
		setLoadBalancerStatus(s.lb, observation{err: rangeErrs.ToAggregate()})
		log.Info("Waiting for valid spec.addressRanges", "reason", rangeErrs.ToAggregate().Error())
		return ctrl.Result{}, nil
	}
	be, err := r.connect(ctx, s.lb)
	if err != nil {
		setLoadBalancerStatus(s.lb, observation{err: err})
		return ctrl.Result{}, fmt.Errorf("failed to reach the Data Plane API of LoadBalancer %s: %w", s.lb.Name, err)
	}
	if err := r.collect(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	for _, svc := range s.released {
		markReleased(svc)
	}

	alloc := allocate(ranges, s.serve, r.lastVIPs)
	r.lastVIPs = alloc.vips
	for _, svc := range s.serve {
		if why, ok := alloc.refused[svc.key]; ok {
			r.refuse(svc, lbv1.ReasonVIPUnavailable, why.Error())
		}
	}
	desired, owners := desiredProxies(s.serve, alloc.vips)

	res, err := r.program(ctx, be, desired)
	if err != nil {
		setLoadBalancerStatus(s.lb, observation{be: be, inUse: alloc.inUse, free: alloc.free, err: err})
		return ctrl.Result{}, fmt.Errorf("failed to program HAProxy through %s: %w", be.server, err)
	}
	rejected := r.reject(res.Rejected, owners)
	notAnswering, checking := r.publish(ctx, s.serve, alloc.vips, rejected, be.applier)
	setLoadBalancerStatus(s.lb, observation{be: be, inUse: alloc.inUse, free: alloc.free})

	// Genuine waits, not errors: for HAProxy to run the commit, for a VIP
	// to answer, for a refused configuration's retry. The commit's
	// confirmation and VIPs whose check is still running wake the sync
	// themselves.
	// Read before the watch starts: it may confirm the commit at once.
	pending := be.applier.Pending()
	if pending {
		r.confirmer.watch(ctx, be.applier)
	}
	var result ctrl.Result
	switch {
	case notAnswering:
		result.RequeueAfter = retryNotAnswering
	case len(rejected) > 0:
		result.RequeueAfter = r.RetryRejected
	case pending || checking:
		// The end of the wait wakes the sync.
	default:
		result.RequeueAfter = r.ResyncInterval
	}
	if res.RetryAfter > 0 && (result.RequeueAfter == 0 || res.RetryAfter < result.RequeueAfter) {
		// Changes wait for the next commit (ReloadEvery).
		result.RequeueAfter = res.RetryAfter
	}
	return result, nil
}
