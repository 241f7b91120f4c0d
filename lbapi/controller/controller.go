// Package controller is lbapi's controller: it serves every
// VirtualMachineService of type LoadBalancer from one LoadBalancer. Every
// change to a VirtualMachineService or a VirtualMachine enqueues one shared
// key, so changes that arrive while a sync runs are handled together in the
// next, in one Data Plane API transaction. A Service's VIP is written to its
// status only after the transaction committed and the VIP accepts a TCP
// connection.
package controller

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/iprange"
	"github.com/open-supervisor/supervisor/lbapi/allocator"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// ConditionVIPReady is the VirtualMachineService condition lbapi owns.
const ConditionVIPReady = "LoadBalancerReady"

var syncKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "lbapi-sync"}}

// Reconciler serves VirtualMachineServices from one load balancer.
type Reconciler struct {
	Client client.Client
	// Recorder, when set, gets a Warning Event for each refused VIP.
	Recorder events.EventRecorder
	Applier  *haproxy.Applier
	// Ranges are the load balancer's VIP ranges.
	Ranges []iprange.Range
	// ProbeTimeout bounds the wait for a new VIP to accept connections.
	ProbeTimeout time.Duration
}

// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineservices;virtualmachines,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	toSync := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{syncKey}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("lbapi").
		Watches(&vmopv1.VirtualMachineService{}, toSync).
		Watches(&vmopv1.VirtualMachine{}, toSync).
		Complete(r)
}

// Reconcile syncs every Service at once.
func (r *Reconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var svcs vmopv1.VirtualMachineServiceList
	if err := r.Client.List(ctx, &svcs); err != nil {
		return ctrl.Result{}, err
	}
	lbs := make([]*vmopv1.VirtualMachineService, 0, len(svcs.Items))
	for i := range svcs.Items {
		s := &svcs.Items[i]
		if s.Spec.Type == vmopv1.VirtualMachineServiceTypeLoadBalancer && s.DeletionTimestamp.IsZero() {
			lbs = append(lbs, s)
		}
	}
	sort.Slice(lbs, func(i, j int) bool { return key(lbs[i]) < key(lbs[j]) })

	// Rebuild the allocation from status before handing out anything new,
	// so a restart never moves a VIP.
	alloc := allocator.New(r.Ranges)
	for _, s := range lbs {
		for _, ing := range s.Status.LoadBalancer.Ingress {
			if vip, err := netip.ParseAddr(ing.IP); err == nil {
				_ = alloc.Assign(key(s), vip)
			}
		}
	}
	vips := map[string]netip.Addr{}
	for _, s := range lbs {
		vip, err := r.vipFor(alloc, s)
		if err != nil {
			if r.setCondition(ctx, s, metav1.ConditionFalse, "VIPUnavailable", err.Error()) && r.Recorder != nil {
				r.Recorder.Eventf(s, nil, corev1.EventTypeWarning, "VIPUnavailable", "AllocateVIP", "%s", err.Error())
			}
			continue
		}
		vips[key(s)] = vip
	}

	desired := map[string]haproxy.Proxy{}
	for _, s := range lbs {
		vip, ok := vips[key(s)]
		if !ok {
			continue
		}
		servers, err := r.backends(ctx, s)
		if err != nil {
			return ctrl.Result{}, err
		}
		for _, p := range s.Spec.Ports {
			name := haproxy.ProxyName("VirtualMachineService", s.Namespace, s.Name, p.Port)
			proxy := haproxy.Proxy{Name: name, VIP: vip, Port: p.Port}
			for _, b := range servers {
				proxy.Servers = append(proxy.Servers, haproxy.Server{Name: b.name, Address: b.addr, Port: p.TargetPort})
			}
			desired[name] = proxy
		}
	}
	if _, err := r.Applier.Apply(ctx, desired); err != nil {
		log.Error(err, "Programming HAProxy failed; retrying")
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}

	var retry bool
	for _, s := range lbs {
		vip, ok := vips[key(s)]
		if !ok || len(s.Spec.Ports) == 0 || hasIngress(s, vip) {
			continue
		}
		addr := net.JoinHostPort(vip.String(), strconv.Itoa(int(s.Spec.Ports[0].Port)))
		if !r.answers(ctx, addr) {
			retry = true // committed, but HAProxy is not serving it yet (or its reload failed)
			continue
		}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: vip.String()}}
		r.setCondition(ctx, s, metav1.ConditionTrue, "VIPServing", "")
	}
	if retry {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) vipFor(alloc *allocator.Allocator, s *vmopv1.VirtualMachineService) (netip.Addr, error) {
	if want := s.Spec.LoadBalancerIP; want != "" {
		vip, err := netip.ParseAddr(want)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("spec.loadBalancerIP %q is not an IP address", want)
		}
		if err := alloc.Assign(key(s), vip); err != nil {
			return netip.Addr{}, fmt.Errorf("spec.loadBalancerIP: %w", err)
		}
		return vip, nil
	}
	return alloc.Allocate(key(s))
}

type endpoint struct {
	name string
	addr netip.Addr
}

// backends are the IPs of the VMs the selector matches.
func (r *Reconciler) backends(ctx context.Context, s *vmopv1.VirtualMachineService) ([]endpoint, error) {
	if len(s.Spec.Selector) == 0 {
		return nil, nil
	}
	var vms vmopv1.VirtualMachineList
	if err := r.Client.List(ctx, &vms, client.InNamespace(s.Namespace), client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(s.Spec.Selector)}); err != nil {
		return nil, err
	}
	var out []endpoint
	for _, vm := range vms.Items {
		if vm.Status.Network == nil {
			continue
		}
		if a, err := netip.ParseAddr(vm.Status.Network.PrimaryIP4); err == nil {
			out = append(out, endpoint{name: vm.Name, addr: a})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
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

// setCondition writes the condition (and any ingress set by the caller);
// an unchanged False condition is not written again.
func (r *Reconciler) setCondition(ctx context.Context, s *vmopv1.VirtualMachineService, status metav1.ConditionStatus, reason, msg string) bool {
	changed := meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: ConditionVIPReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: s.Generation,
	})
	if !changed && status == metav1.ConditionFalse {
		return false
	}
	if err := r.Client.Status().Update(ctx, s); err != nil {
		ctrl.LoggerFrom(ctx).V(4).Info("Status update lost a race; the next sync redoes it", "error", err.Error())
	}
	return changed
}

func hasIngress(s *vmopv1.VirtualMachineService, vip netip.Addr) bool {
	for _, ing := range s.Status.LoadBalancer.Ingress {
		if ing.IP == vip.String() {
			return true
		}
	}
	return false
}

func key(s *vmopv1.VirtualMachineService) string {
	return "VirtualMachineService/" + s.Namespace + "/" + s.Name
}
