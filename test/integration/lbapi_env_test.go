package integration

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// lbEnv adds to the harness's LB the checks lbapi tests make.
type lbEnv struct {
	*harness.LB
	h *harness.Harness
}

var lbSerial atomic.Int32

// startLB starts lbapi with opts; a range of 11 VIPs of its own when
// opts.Ranges is nil.
func startLB(t *testing.T, h *harness.Harness, opts harness.LBOptions) *lbEnv {
	t.Helper()
	if opts.Ranges == nil {
		opts.Ranges = []lbv1.AddressRange{{Address: fmt.Sprintf("127.40.%d.10", lbSerial.Add(1)), Count: 11}}
	}
	return &lbEnv{LB: h.StartLB(opts), h: h}
}

// vmService creates a VirtualMachineService of type LoadBalancer.
func (e *lbEnv) vmService(name string, selector map[string]string, port, targetPort int32) *vmopv1.VirtualMachineService {
	e.h.T.Helper()
	svc := &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.h.Namespace, Name: name},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type: vmopv1.VirtualMachineServiceTypeLoadBalancer, Selector: selector,
			Ports: []vmopv1.VirtualMachineServicePort{{Name: "p", Protocol: "TCP", Port: port, TargetPort: targetPort}},
		},
	}
	if err := e.h.Client.Create(context.Background(), svc); err != nil {
		e.h.T.Fatal(err)
	}
	return svc
}

// vm creates a VirtualMachine whose status reports ip (the VM service is
// not running in lbapi tests: lbapi only reads VMs).
func (e *lbEnv) vm(name string, labels map[string]string, ip string) *vmopv1.VirtualMachine {
	e.h.T.Helper()
	ctx := context.Background()
	vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: e.h.Namespace, Name: name, Labels: labels}}
	if err := e.h.Client.Create(ctx, vm); err != nil {
		e.h.T.Fatal(err)
	}
	e.setVMIP(vm, ip)
	return vm
}

func (e *lbEnv) setVMIP(vm *vmopv1.VirtualMachine, ip string) {
	e.h.T.Helper()
	vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: ip}
	if err := e.h.Client.Status().Update(context.Background(), vm); err != nil {
		e.h.T.Fatal(err)
	}
}

// waitVIP waits for obj's status to show a VIP and returns it.
func (e *lbEnv) waitVIP(obj client.Object) string {
	e.h.T.Helper()
	var vip string
	wait.For(e.h.T, harness.Timeout, "a VIP for "+obj.GetName(), func() (bool, error) {
		if err := e.h.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err
		}
		ing, conds := statusOf(obj)
		if len(ing) == 0 {
			return false, fmt.Errorf("no VIP in the status of %s yet: %+v", obj.GetName(), conds)
		}
		vip = ing[0].IP
		return true, nil
	})
	return vip
}

// waitCondition waits for lbapi's condition on obj with reason.
func (e *lbEnv) waitCondition(obj client.Object, status metav1.ConditionStatus, reason, contains string) *metav1.Condition {
	e.h.T.Helper()
	var got *metav1.Condition
	wait.For(e.h.T, harness.Timeout, fmt.Sprintf("%s to be %s/%s", obj.GetName(), status, reason), func() (bool, error) {
		if err := e.h.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err
		}
		_, conds := statusOf(obj)
		c := meta.FindStatusCondition(conds, lbv1.ConditionLoadBalancerReady)
		if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, contains) {
			return false, fmt.Errorf("condition of %s is %+v", obj.GetName(), c)
		}
		got = c
		return true, nil
	})
	return got
}

// waitEvent waits for a Warning Event about name with reason whose note
// contains text.
func (e *lbEnv) waitEvent(name, reason, text string) {
	e.h.T.Helper()
	wait.For(e.h.T, harness.Timeout, "an Event for "+name, func() (bool, error) {
		var evs eventsv1.EventList
		if err := e.h.Client.List(context.Background(), &evs, client.InNamespace(e.h.Namespace)); err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			if ev.Regarding.Name == name && ev.Reason == reason && ev.Type == corev1.EventTypeWarning && strings.Contains(ev.Note, text) {
				return true, nil
			}
		}
		return false, fmt.Errorf("no %s Event for %s mentioning %q", reason, name, text)
	})
}

// loadBalancer reads the LoadBalancer back.
func (e *lbEnv) loadBalancer() *lbv1.LoadBalancer {
	lb := &lbv1.LoadBalancer{}
	if err := e.h.Client.Get(context.Background(), client.ObjectKeyFromObject(e.Object), lb); err != nil {
		e.h.T.Fatal(err)
	}
	return lb
}

func statusOf(obj client.Object) ([]corev1.LoadBalancerIngress, []metav1.Condition) {
	switch o := obj.(type) {
	case *vmopv1.VirtualMachineService:
		return o.Status.LoadBalancer.Ingress, o.Status.Conditions
	case *corev1.Service:
		return o.Status.LoadBalancer.Ingress, o.Status.Conditions
	}
	return nil, nil
}
