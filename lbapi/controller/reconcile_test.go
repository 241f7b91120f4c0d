package controller

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	dpfake "github.com/open-supervisor/supervisor/lbapi/dataplane/fake"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
)

// Unit tests of whole syncs: a fake API server, the in-memory Data Plane
// API and a dial the test controls; the integration tests run the same
// against kube-apiserver and real HAProxy.

type env struct {
	t        *testing.T
	client   client.Client
	dp       *dpfake.DataPlane
	dial     *gatedDial
	recorder *events.FakeRecorder
	r        *Reconciler
}

func newEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, lbv1.AddToScheme, vmopv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	lb := &lbv1.LoadBalancer{
		ObjectMeta: metav1.ObjectMeta{Name: "lb", Generation: 2},
		Spec: lbv1.LoadBalancerSpec{
			Provider: lbv1.ProviderHAProxy,
			HAProxy: lbv1.HAProxyConfig{
				Servers:              []lbv1.DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5556}},
				CredentialsSecretRef: lbv1.SecretReference{Namespace: "kube-system", Name: "haproxy"},
			},
			AddressRanges: []lbv1.AddressRange{{Address: "127.30.0.1", Count: 4}},
		},
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "haproxy"},
		Data: map[string][]byte{"username": []byte("lbapi"), "password": []byte("pw")}}
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(append(objs, lb, secret)...).
		WithStatusSubresource(&lbv1.LoadBalancer{}, &vmopv1.VirtualMachineService{}, &corev1.Service{}).
		Build()
	e := &env{t: t, client: c, dp: &dpfake.DataPlane{}, dial: newGatedDial(), recorder: events.NewFakeRecorder(100)}
	e.r = &Reconciler{Client: c, APIReader: c, Recorder: e.recorder, LoadBalancer: "lb"}
	e.r.dialAPI = func(context.Context, string, *http.Client, string, string) (dataplane.API, string, error) {
		return e.dp, "v3", nil
	}
	e.r.dialVIP = e.dial.dial
	return e
}

func (e *env) sync() (ctrl.Result, error) {
	e.t.Helper()
	return e.r.Reconcile(context.Background(), syncKey)
}

// syncUntilChecking syncs until HAProxy confirmed its reload and the
// VIP checks started: the first sync commits, the confirmation of the
// commit wakes the second, which starts the checks.
func (e *env) syncUntilChecking() {
	e.t.Helper()
	res, err := e.sync()
	if err != nil || res.RequeueAfter != 0 {
		e.t.Fatalf("first sync: the commit's confirmation wakes the sync, it must not poll: %+v %v", res, err)
	}
	<-e.r.wake // HAProxy runs the commit
	res, err = e.sync()
	if err != nil || res.RequeueAfter != 0 {
		e.t.Fatalf("second sync: the VIP checks wake the sync, it must not poll: %+v %v", res, err)
	}
}

func (e *env) vmService(name string) *vmopv1.VirtualMachineService {
	e.t.Helper()
	s := &vmopv1.VirtualMachineService{}
	if err := e.client.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: name}, s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) loadBalancer() *lbv1.LoadBalancer {
	e.t.Helper()
	lb := &lbv1.LoadBalancer{}
	if err := e.client.Get(context.Background(), client.ObjectKey{Name: "lb"}, lb); err != nil {
		e.t.Fatal(err)
	}
	return lb
}

func vm(name, ip string) *vmopv1.VirtualMachine {
	v := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: name, Labels: map[string]string{"app": "web"}}}
	v.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: ip}
	return v
}

func newVMService(name string, port int32) *vmopv1.VirtualMachineService {
	return &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: name, Generation: 1},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type: vmopv1.VirtualMachineServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []vmopv1.VirtualMachineServicePort{{Name: "p", Protocol: "TCP", Port: port, TargetPort: 8080}},
		},
	}
}

func ready(s *vmopv1.VirtualMachineService) *metav1.Condition {
	return meta.FindStatusCondition(s.Status.Conditions, lbv1.ConditionLoadBalancerReady)
}

// A VIP reaches a Service's status only once HAProxy loaded its proxies
// and the VIP answers; the LoadBalancer says what it serves.
func TestSyncPublishesAVIPOnceItAnswers(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("web", 80))
	e.dial.open["127.30.0.1:80"] = true
	transactions := testmetrics.Value(t, "supervisor_haproxy_transactions_total", nil)

	e.syncUntilChecking()
	if got := testmetrics.Value(t, "supervisor_haproxy_transactions_total", nil); got <= transactions {
		t.Errorf("supervisor_haproxy_transactions_total %v after a commit, was %v", got, transactions)
	}
	name := haproxy.ProxyName("VirtualMachineService", "ns1", "web", 80)
	cfg := e.dp.Loaded()
	if b := cfg.Binds[name]["vip"]; b == nil || b.Address != "127.30.0.1" || *b.Port != 80 {
		t.Fatalf("HAProxy must serve the lowest VIP on port 80, binds %+v", cfg.Binds[name])
	}
	if s := cfg.Servers[name]["vm-a"]; s == nil || s.Address != "10.0.0.1" || *s.Port != 8080 {
		t.Fatalf("HAProxy must forward to the VM, servers %+v", cfg.Servers[name])
	}
	if svc := e.vmService("web"); len(svc.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("a VIP was published before it was checked: %+v", svc.Status)
	}

	<-e.r.wake // the check finished
	if res, err := e.sync(); err != nil || res.RequeueAfter != e.r.ResyncInterval {
		t.Fatalf("third sync: converged, it looks again after the resync interval: %+v %v", res, err)
	}
	svc := e.vmService("web")
	if len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Status.LoadBalancer.Ingress[0].IP != "127.30.0.1" {
		t.Fatalf("want the VIP in status, got %+v", svc.Status.LoadBalancer)
	}
	if c := ready(svc); c == nil || c.Status != metav1.ConditionTrue || c.Reason != lbv1.ReasonVIPServing {
		t.Fatalf("want %s True, got %+v", lbv1.ConditionLoadBalancerReady, c)
	}
	lb := e.loadBalancer()
	if c := meta.FindStatusCondition(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("want the API reachable, got %+v", lb.Status)
	}
	if lb.Status.VIPsInUse != 1 || lb.Status.VIPsFree != 3 || lb.Status.APIVersion != "v3" || lb.Status.ObservedGeneration != lb.Generation {
		t.Fatalf("LoadBalancer status %+v (generation %d)", lb.Status, lb.Generation)
	}
	inUse := testmetrics.Value(t, "supervisor_lbapi_vip_addresses", map[string]string{"loadbalancer": lb.Name, "state": "in_use"})
	free := testmetrics.Value(t, "supervisor_lbapi_vip_addresses", map[string]string{"loadbalancer": lb.Name, "state": "free"})
	if inUse != 1 || free != 3 {
		t.Errorf("/metrics shows %v VIPs in use and %v free, want 1 and 3", inUse, free)
	}
}

// One VIP that does not answer holds up no other Service: the sync does
// not wait for it, and the others are published meanwhile.
func TestSyncIsNotHeldUpByASlowVIP(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("a-slow", 80), newVMService("b-fast", 81))
	slow := e.dial.gate("127.30.0.1:80")
	e.dial.open["127.30.0.2:81"] = true

	e.syncUntilChecking()
	<-e.r.wake
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if fast := e.vmService("b-fast"); len(fast.Status.LoadBalancer.Ingress) != 1 {
		t.Fatalf("the fast Service must be served while the slow one is checked: %+v", fast.Status)
	}
	if s := e.vmService("a-slow"); len(s.Status.LoadBalancer.Ingress) != 0 || ready(s) != nil {
		t.Fatalf("the slow Service has nothing to show yet: %+v", s.Status)
	}

	close(slow)
	<-e.r.wake
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if s := e.vmService("a-slow"); len(s.Status.LoadBalancer.Ingress) != 1 || s.Status.LoadBalancer.Ingress[0].IP != "127.30.0.1" {
		t.Fatalf("the slow Service must be served once its VIP answers: %+v", s.Status)
	}
}

// A VIP that never answers is reported, and looked at again later.
func TestSyncReportsAVIPThatDoesNotAnswer(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("web", 80))
	e.r.ProbeTimeout = 100 * time.Millisecond // the dial never answers
	e.syncUntilChecking()
	<-e.r.wake
	res, err := e.sync()
	if err != nil || res.RequeueAfter != retryNotAnswering {
		t.Fatalf("want a later look, got %+v %v", res, err)
	}
	svc := e.vmService("web")
	if c := ready(svc); c == nil || c.Status != metav1.ConditionFalse || c.Reason != lbv1.ReasonVIPNotAnswering || len(svc.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("want %s, got %+v", lbv1.ReasonVIPNotAnswering, svc.Status)
	}
}

// When no Data Plane API answers the sync fails with the reason (and is
// retried by the queue), and the LoadBalancer tells the admin.
func TestSyncFailsWhileTheDataPlaneAPIIsAway(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("web", 80))
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	e.r.dialAPI = func(context.Context, string, *http.Client, string, string) (dataplane.API, string, error) {
		return nil, "", refused
	}
	res, err := e.sync()
	if err == nil || !errors.Is(err, refused) || res.RequeueAfter != 0 {
		t.Fatalf("want the error returned, got %+v %v", res, err)
	}
	lb := e.loadBalancer()
	c := meta.FindStatusCondition(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != lbv1.ReasonUnreachable || !strings.Contains(lb.Status.LastError, "connection refused") {
		t.Fatalf("want the API reported unreachable, got %+v", lb.Status)
	}
	if lb.Status.ObservedGeneration != 0 {
		t.Fatalf("a failed sync must not claim the generation observed: %d", lb.Status.ObservedGeneration)
	}
}

// A VIP that cannot be given is refused with a condition and an Event; a
// Service that stopped being a LoadBalancer gives its VIP back.
func TestSyncRefusesAndReleases(t *testing.T) {
	odd := newVMService("odd", 80)
	odd.Spec.LoadBalancerIP = "10.1.2.3"
	old := newVMService("old", 80)
	old.Spec.Type = vmopv1.VirtualMachineServiceTypeClusterIP
	old.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "127.30.0.4"}}
	old.Status.Conditions = []metav1.Condition{{Type: lbv1.ConditionLoadBalancerReady, Status: metav1.ConditionTrue, Reason: lbv1.ReasonVIPServing,
		LastTransitionTime: metav1.Now()}}
	e := newEnv(t, vm("vm-a", "10.0.0.1"), odd, old)
	unavailable := map[string]string{"reason": lbv1.ReasonVIPUnavailable}
	refusals := testmetrics.Value(t, "supervisor_lbapi_refusals_total", unavailable)

	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	c := ready(e.vmService("odd"))
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != lbv1.ReasonVIPUnavailable || !strings.Contains(c.Message, "spec.loadBalancerIP") {
		t.Fatalf("want the request refused naming the field, got %+v", c)
	}
	if ev := <-e.recorder.Events; !strings.Contains(ev, "Warning VIPUnavailable") || !strings.Contains(ev, "not in the load balancer's ranges") {
		t.Fatalf("want a Warning Event, got %q", ev)
	}
	if s := e.vmService("old"); len(s.Status.LoadBalancer.Ingress) != 0 || ready(s) != nil {
		t.Fatalf("a ClusterIP Service must not keep lbapi's VIP or condition: %+v", s.Status)
	}
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if n := len(e.recorder.Events); n != 0 {
		t.Fatalf("an unchanged refusal must not raise another Event, got %d", n)
	}
	if got := testmetrics.Value(t, "supervisor_lbapi_refusals_total", unavailable); got != refusals+1 {
		t.Errorf("supervisor_lbapi_refusals_total{reason=VIPUnavailable} %v, want %v: one refusal, counted once", got, refusals+1)
	}
}

// A VM with a readiness probe gets traffic only while it is Ready, as
// vm-operator's VirtualMachineService serves only ready VMs; a VM without
// a probe always does.
func TestOnlyReadyVMsServe(t *testing.T) {
	probed := vm("vm-b", "10.0.0.2")
	probed.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{TCPSocket: &vmopv1.TCPSocketAction{Port: intstr.FromInt32(22)}}
	probed.Status.Conditions = []metav1.Condition{{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse,
		Reason: vmopv1.VirtualMachineReadinessProbeFailedReason, LastTransitionTime: metav1.Now()}}
	e := newEnv(t, vm("vm-a", "10.0.0.1"), probed, newVMService("web", 80))
	e.dial.open["127.30.0.1:80"] = true
	name := haproxy.ProxyName("VirtualMachineService", "ns1", "web", 80)

	e.syncUntilChecking()
	if servers := e.dp.Loaded().Servers[name]; servers["vm-a"] == nil || servers["vm-b"] != nil {
		t.Fatalf("want only the VM without a probe behind the VIP while vm-b's probe fails, servers %+v", servers)
	}
	ready := &vmopv1.VirtualMachine{}
	if err := e.client.Get(context.Background(), client.ObjectKeyFromObject(probed), ready); err != nil {
		t.Fatal(err)
	}
	meta.SetStatusCondition(&ready.Status.Conditions, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionTrue, Reason: "ReadinessProbeSucceeded"})
	if err := e.client.Update(context.Background(), ready); err != nil {
		t.Fatal(err)
	}
	<-e.r.wake
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if servers := e.dp.Loaded().Servers[name]; servers["vm-a"] == nil || servers["vm-b"] == nil {
		t.Fatalf("want both VMs behind the VIP once vm-b is Ready, servers %+v", servers)
	}
}

// With a Data Plane API that reports every reload succeeded (the real
// server's signal reload), a Service whose VIP:port another process holds
// is found from what HAProxy's running process runs: it is refused with a
// condition naming the address, and the other Service of the batch serves.
func TestSyncRefusesAServiceWhoseReloadWasReportedSucceededButNeverRan(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("blocked", 80), newVMService("fine", 80))
	// blocked gets the lowest VIP, which another process holds.
	e.dp = &dpfake.DataPlane{SignalReloads: true, Load: func(cfg dpfake.Config) error {
		for _, binds := range cfg.Binds {
			for _, b := range binds {
				if b.Address == "127.30.0.1" {
					return errors.New("cannot bind socket (Address already in use) for [127.30.0.1:80]")
				}
			}
		}
		return nil
	}}
	e.dial.open["127.30.0.1:80"] = true         // the other process answers
	fineAnswers := e.dial.gate("127.30.0.2:80") // once HAProxy runs fine
	e.r.ConfirmTimeout = time.Nanosecond
	e.r.ProbeTimeout = time.Minute // fine's check waits for its gate, not for a deadline
	refusals := testmetrics.Value(t, "supervisor_lbapi_refusals_total", map[string]string{"reason": lbv1.ReasonConfigRejected})

	if res, err := e.sync(); err != nil || res.RequeueAfter != 0 {
		t.Fatalf("first sync: the commit's confirmation wakes the sync, it must not poll: %+v %v", res, err)
	}
	<-e.r.wake // the commit was found not to run, and settled
	if res, err := e.sync(); err != nil {
		t.Fatalf("second sync: %+v %v", res, err)
	}
	blocked := e.vmService("blocked")
	c := ready(blocked)
	if c == nil || c.Reason != lbv1.ReasonConfigRejected || !strings.Contains(c.Message, "VIP 127.30.0.1:80 is held by another process") {
		t.Fatalf("want blocked refused for its held VIP:port, got %+v", c)
	}
	if len(blocked.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("a VIP HAProxy never ran was published: %+v", blocked.Status.LoadBalancer)
	}
	if got := testmetrics.Value(t, "supervisor_lbapi_refusals_total", map[string]string{"reason": lbv1.ReasonConfigRejected}); got != refusals+1 {
		t.Errorf("supervisor_lbapi_refusals_total{reason=ConfigRejected}: want %v, got %v", refusals+1, got)
	}
	if got := e.dp.Loaded().Frontends; len(got) != 1 || got[haproxy.ProxyName("VirtualMachineService", "ns1", "fine", 80)] == nil {
		t.Fatalf("HAProxy must run fine alone, runs %v", got)
	}

	close(fineAnswers)
	<-e.r.wake // fine's VIP check finished
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if fine := e.vmService("fine"); len(fine.Status.LoadBalancer.Ingress) != 1 || fine.Status.LoadBalancer.Ingress[0].IP != "127.30.0.2" {
		t.Fatalf("want fine serving 127.30.0.2, got %+v", fine.Status)
	}
}

// A commit whose reload is still to come holds no VIP back once it runs:
// the sync is woken when HAProxy's running process shows the commit, not
// on a fixed poll, and the VIP is published after its check.
func TestSyncIsWokenWhenHAProxyRunsTheCommit(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("web", 80))
	e.dp = &dpfake.DataPlane{HoldReloads: true}
	e.dial.open["127.30.0.1:80"] = true

	if res, err := e.sync(); err != nil || res.RequeueAfter != 0 {
		t.Fatalf("first sync: want the commit watched, not polled, got %+v %v", res, err)
	}
	select {
	case <-e.r.wake:
		t.Fatal("the sync was woken while the commit's reload was still in progress")
	default:
	}
	if svc := e.vmService("web"); len(svc.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("a VIP was published before HAProxy ran it: %+v", svc.Status)
	}

	e.dp.FinishReloads()
	<-e.r.wake // HAProxy runs the commit
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	<-e.r.wake // the VIP answered
	if _, err := e.sync(); err != nil {
		t.Fatal(err)
	}
	if svc := e.vmService("web"); len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Status.LoadBalancer.Ingress[0].IP != "127.30.0.1" {
		t.Fatalf("want the VIP in status once HAProxy runs it and it answers, got %+v", svc.Status.LoadBalancer)
	}
}

// An appliance that comes back without lbapi's configuration is
// programmed again by the resync of a converged sync, with no Service
// change to wake it, and the Service keeps its VIP.
func TestResyncProgramsAnApplianceThatCameBackEmpty(t *testing.T) {
	e := newEnv(t, vm("vm-a", "10.0.0.1"), newVMService("web", 80))
	e.dial.open["127.30.0.1:80"] = true
	e.syncUntilChecking()
	<-e.r.wake // the check finished
	res, err := e.sync()
	if err != nil || res.RequeueAfter != e.r.ResyncInterval {
		t.Fatalf("converged sync: want a resync after %s, got %+v %v", e.r.ResyncInterval, res, err)
	}
	name := haproxy.ProxyName("VirtualMachineService", "ns1", "web", 80)
	if e.dp.Loaded().Frontends[name] == nil {
		t.Fatal("HAProxy must serve web before the restart")
	}

	e.dp.Restart()
	if _, err := e.sync(); err != nil { // the resync
		t.Fatal(err)
	}
	if b := e.dp.Committed().Binds[name]["vip"]; b == nil || b.Address != "127.30.0.1" {
		t.Fatalf("the resync must program web again on its VIP, binds %+v", e.dp.Committed().Binds[name])
	}
	if svc := e.vmService("web"); len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Status.LoadBalancer.Ingress[0].IP != "127.30.0.1" {
		t.Fatalf("web must keep its VIP, status %+v", svc.Status.LoadBalancer)
	}
}
