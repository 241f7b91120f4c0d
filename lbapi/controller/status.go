package controller

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/cluster-api/util/patch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
)

// statusWriters patch Services' status in parallel: a burst of a thousand
// Services must not wait for a thousand round trips one after the other.
const statusWriters = 16

// observation is what a sync learnt about the load balancer.
type observation struct {
	// be is the Data Plane API that answered; nil when none did.
	be *backend
	// inUse and free count VIPs.
	inUse, free int
	// err is why the load balancer could not be used or programmed.
	err error
}

// setLoadBalancerStatus records o in lb's status.
func setLoadBalancerStatus(lb *lbv1.LoadBalancer, o observation) {
	if o.be != nil {
		lb.Status.APIVersion = o.be.apiVersion
	}
	lb.Status.VIPsInUse, lb.Status.VIPsFree = int32(o.inUse), int32(o.free)
	vipAddresses.WithLabelValues(lb.Name, "in_use").Set(float64(o.inUse))
	vipAddresses.WithLabelValues(lb.Name, "free").Set(float64(o.free))
	cond := metav1.Condition{
		Type: lbv1.ConditionDataPlaneAPIReachable, Status: metav1.ConditionTrue, Reason: lbv1.ReasonReachable,
		ObservedGeneration: lb.Generation,
	}
	if o.be != nil {
		cond.Message = "Data Plane API " + o.be.apiVersion + " at " + o.be.server
	}
	lb.Status.LastError = ""
	if o.err != nil {
		lb.Status.LastError = o.err.Error()
		// An API that answered but refused a change is still reachable.
		if o.be == nil || isTransportError(o.err) {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, lbv1.ReasonUnreachable, o.err.Error()
		}
	}
	meta.SetStatusCondition(&lb.Status.Conditions, cond)
}

// setReady sets lbapi's condition on s and says whether it changed.
func setReady(s *lbService, status metav1.ConditionStatus, reason, msg string) bool {
	return meta.SetStatusCondition(s.conditions, metav1.Condition{
		Type: lbv1.ConditionLoadBalancerReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: s.obj.GetGeneration(),
	})
}

// markServing publishes vip in s's status.
func markServing(s *lbService, vip netip.Addr) {
	s.status.Ingress = []corev1.LoadBalancerIngress{ingressFor(s, vip)}
	setReady(s, metav1.ConditionTrue, lbv1.ReasonVIPServing, "VIP "+vip.String()+" accepts connections")
}

// markNotAnswering says that HAProxy accepted s's configuration but its
// VIP (at addr) does not accept connections.
func markNotAnswering(s *lbService, addr string) {
	setReady(s, metav1.ConditionFalse, lbv1.ReasonVIPNotAnswering, "HAProxy accepted the configuration but "+addr+" does not accept connections yet")
}

// markRefused says why s gets no VIP, and whether that is news.
func markRefused(s *lbService, reason, msg string) bool {
	return setReady(s, metav1.ConditionFalse, reason, msg)
}

// markReleased removes lbapi's VIP and condition from a Service that is no
// longer of type LoadBalancer, so its status does not claim a VIP that is
// now free.
func markReleased(s *lbService) {
	s.status.Ingress = nil
	meta.RemoveStatusCondition(s.conditions, lbv1.ConditionLoadBalancerReady)
}

// showsVIP says whether s's status shows lbapi's VIP or condition.
func showsVIP(s *lbService) bool {
	return len(s.status.Ingress) > 0 || meta.FindStatusCondition(*s.conditions, lbv1.ConditionLoadBalancerReady) != nil
}

func ingressFor(s *lbService, vip netip.Addr) corev1.LoadBalancerIngress {
	ing := corev1.LoadBalancerIngress{IP: vip.String()}
	if _, core := s.obj.(*corev1.Service); core {
		mode := corev1.LoadBalancerIPModeVIP
		ing.IPMode = &mode
	}
	return ing
}

func hasIngress(s *lbService, vip netip.Addr) bool {
	for _, ing := range s.status.Ingress {
		if ing.IP == vip.String() {
			return true
		}
	}
	return false
}

// patchServices writes what the sync changed in the status of services
// (those with a patch baseline); unchanged ones cost nothing.
func (r *Reconciler) patchServices(ctx context.Context, services []*lbService) error {
	work := make(chan *lbService)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range statusWriters {
		wg.Go(func() {
			for s := range work {
				if err := r.patchService(ctx, s); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, s := range services {
		if s.patcher != nil {
			work <- s
		}
	}
	close(work)
	wg.Wait()
	return kerrors.NewAggregate(errs)
}

func (r *Reconciler) patchService(ctx context.Context, s *lbService) error {
	err := s.patcher.Patch(ctx, s.obj, patch.WithOwnedConditions{Conditions: []string{lbv1.ConditionLoadBalancerReady}})
	if err != nil && !r.gone(ctx, s.obj) {
		return fmt.Errorf("failed to patch the status of %s: %w", s.key, err)
	}
	return nil
}

// patchLoadBalancer writes lb's status; observedGeneration moves only when
// the whole sync succeeded.
func (r *Reconciler) patchLoadBalancer(ctx context.Context, helper *patch.Helper, lb *lbv1.LoadBalancer, succeeded bool) error {
	opts := []patch.Option{patch.WithOwnedConditions{Conditions: []string{lbv1.ConditionDataPlaneAPIReachable}}}
	if succeeded {
		opts = append(opts, patch.WithStatusObservedGeneration{})
	}
	if err := helper.Patch(ctx, lb, opts...); err != nil && !r.gone(ctx, lb) {
		return fmt.Errorf("failed to patch the status of LoadBalancer %s: %w", klog.KObj(lb), err)
	}
	return nil
}

// gone says whether obj was deleted: a status write to it failing is then
// no error (the patch helper's aggregated errors hide the NotFound).
func (r *Reconciler) gone(ctx context.Context, obj client.Object) bool {
	probe := obj.DeepCopyObject().(client.Object)
	return apierrors.IsNotFound(r.Client.Get(ctx, client.ObjectKeyFromObject(obj), probe))
}
