package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/iprange"
	"github.com/open-supervisor/supervisor/internal/tcptest"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
	"github.com/open-supervisor/supervisor/test/harness"
)

// A VirtualMachineService selecting VMs gets a VIP that forwards real TCP to
// the VMs' addresses, and the VIP appears in status only once it serves.
func TestVirtualMachineServiceVIPForwards(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()

	app, err := appliance.Start(ctx, appliance.Options{Dir: t.TempDir(), Username: "lbapi", Password: "pw", ReloadDelay: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Stop)
	ranges, _ := iprange.ParseAll([]string{"127.40.0.10-127.40.0.20"})

	mgr, err := ctrl.NewManager(harness.Config().Config, ctrl.Options{
		Scheme: harness.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &controller.Reconciler{Client: mgr.GetClient(), Ranges: ranges, Recorder: mgr.GetEventRecorder("lbapi"),
		Applier: &haproxy.Applier{Client: &dataplane.Client{BaseURL: app.URL, Username: "lbapi", Password: "pw"}}}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// Two "VMs" whose addresses are loopback listeners.
	port := 30000 + int32(time.Now().UnixNano()%5000)
	for i, ip := range []string{"127.41.0.2", "127.41.0.3"} {
		tcptest.Serve(t, fmt.Sprintf("%s:%d", ip, port), fmt.Sprintf("cp-%d", i))
		vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: fmt.Sprintf("cp-%d", i), Labels: map[string]string{"role": "cp"}}}
		if err := h.Client.Create(ctx, vm); err != nil {
			t.Fatal(err)
		}
		vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: ip}
		if err := h.Client.Status().Update(ctx, vm); err != nil {
			t.Fatal(err)
		}
	}
	svc := &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "cluster-api"},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type:     vmopv1.VirtualMachineServiceTypeLoadBalancer,
			Selector: map[string]string{"role": "cp"},
			Ports:    []vmopv1.VirtualMachineServicePort{{Name: "apiserver", Protocol: "TCP", Port: port, TargetPort: port}},
		},
	}
	if err := h.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	var vip string
	h.Eventually(func() error {
		got := &vmopv1.VirtualMachineService{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(svc), got); err != nil {
			return err
		}
		if len(got.Status.LoadBalancer.Ingress) == 0 {
			return fmt.Errorf("no VIP in status yet: %+v", got.Status.Conditions)
		}
		vip = got.Status.LoadBalancer.Ingress[0].IP
		return nil
	}, "the VIP in status")
	if vip != "127.40.0.10" {
		t.Errorf("want the lowest VIP of the range, got %s", vip)
	}
	seen := map[string]bool{}
	for range 6 {
		seen[tcptest.Reach(fmt.Sprintf("%s:%d", vip, port))] = true
	}
	if !seen["cp-0"] || !seen["cp-1"] {
		t.Fatalf("the VIP must reach both VMs, reached %v", seen)
	}

	// A VM leaves the selector: traffic goes only to the other, the VIP stays.
	gone := &vmopv1.VirtualMachine{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: "cp-1"}, gone); err != nil {
		t.Fatal(err)
	}
	gone.Labels = map[string]string{"role": "retired"}
	if err := h.Client.Update(ctx, gone); err != nil {
		t.Fatal(err)
	}
	h.Eventually(func() error {
		seen := map[string]bool{}
		for range 6 {
			seen[tcptest.Reach(fmt.Sprintf("%s:%d", vip, port))] = true
		}
		if seen["cp-1"] || !seen["cp-0"] {
			return fmt.Errorf("reached %v", seen)
		}
		return nil
	}, "traffic to follow the selector")

	// A requested VIP outside the range is refused, naming the field.
	bad := &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "wants-odd-ip"},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type: vmopv1.VirtualMachineServiceTypeLoadBalancer, LoadBalancerIP: "10.1.2.3",
			Ports: []vmopv1.VirtualMachineServicePort{{Name: "x", Protocol: "TCP", Port: port + 1, TargetPort: port}},
		},
	}
	if err := h.Client.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	h.Eventually(func() error {
		got := &vmopv1.VirtualMachineService{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(bad), got); err != nil {
			return err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == controller.ConditionVIPReady && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "spec.loadBalancerIP") {
				return nil
			}
		}
		return fmt.Errorf("no refusal yet: %+v", got.Status)
	}, "the out-of-range request refused")
	h.Eventually(func() error {
		var evs eventsv1.EventList
		if err := h.Client.List(ctx, &evs, client.InNamespace(h.Namespace)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == bad.Name && e.Reason == "VIPUnavailable" && strings.Contains(e.Note, "spec.loadBalancerIP") {
				return nil
			}
		}
		return fmt.Errorf("no Warning event for %s", bad.Name)
	}, "an Event for the refused VIP")

	// A restarted controller (new allocator, new applier) keeps every VIP.
	cancel()
	<-done
	mgr2, err := ctrl.NewManager(harness.Config().Config, ctrl.Options{
		Scheme: harness.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	r2 := &controller.Reconciler{Client: mgr2.GetClient(), Ranges: ranges,
		Applier: &haproxy.Applier{Client: &dataplane.Client{BaseURL: app.URL, Username: "lbapi", Password: "pw"}}}
	if err := r2.SetupWithManager(mgr2); err != nil {
		t.Fatal(err)
	}
	m2ctx, cancel2 := context.WithCancel(ctx)
	done2 := make(chan struct{})
	go func() { defer close(done2); _ = mgr2.Start(m2ctx) }()
	t.Cleanup(func() { cancel2(); <-done2 })
	other := &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "second"},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type: vmopv1.VirtualMachineServiceTypeLoadBalancer, Selector: map[string]string{"role": "cp"},
			Ports: []vmopv1.VirtualMachineServicePort{{Name: "x", Protocol: "TCP", Port: port, TargetPort: port}},
		},
	}
	if err := h.Client.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	h.Eventually(func() error {
		got := &vmopv1.VirtualMachineService{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(other), got); err != nil {
			return err
		}
		if len(got.Status.LoadBalancer.Ingress) == 0 {
			return fmt.Errorf("no VIP yet")
		}
		if ip := got.Status.LoadBalancer.Ingress[0].IP; ip == vip {
			return fmt.Errorf("the restarted controller gave away %s, which cluster-api holds", vip)
		}
		return nil
	}, "a new Service to get a VIP of its own after the restart")
	first := &vmopv1.VirtualMachineService{}
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(svc), first); err != nil {
		t.Fatal(err)
	}
	if got := first.Status.LoadBalancer.Ingress[0].IP; got != vip {
		t.Errorf("the restart moved cluster-api's VIP from %s to %s", vip, got)
	}
	if tcptest.Reach(fmt.Sprintf("%s:%d", vip, port)) != "cp-0" {
		t.Error("the VIP stopped serving across the restart")
	}

	// Deleting a Service removes its proxy and frees its VIP for the next.
	secondVIP := ""
	{
		got := &vmopv1.VirtualMachineService{}
		_ = h.Client.Get(ctx, client.ObjectKeyFromObject(other), got)
		secondVIP = got.Status.LoadBalancer.Ingress[0].IP
	}
	if err := h.Client.Delete(ctx, other); err != nil {
		t.Fatal(err)
	}
	h.Eventually(func() error {
		if tcptest.Reach(fmt.Sprintf("%s:%d", secondVIP, port)) != "" {
			return fmt.Errorf("%s still answers", secondVIP)
		}
		return nil
	}, "the deleted Service's VIP to stop answering")
	third := other.DeepCopy()
	third.ObjectMeta = metav1.ObjectMeta{Namespace: h.Namespace, Name: "third"}
	if err := h.Client.Create(ctx, third); err != nil {
		t.Fatal(err)
	}
	h.Eventually(func() error {
		got := &vmopv1.VirtualMachineService{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(third), got); err != nil {
			return err
		}
		if len(got.Status.LoadBalancer.Ingress) == 0 || got.Status.LoadBalancer.Ingress[0].IP != secondVIP {
			return fmt.Errorf("want the freed VIP %s, status %+v", secondVIP, got.Status.LoadBalancer)
		}
		return nil
	}, "the freed VIP to be reused")
}
