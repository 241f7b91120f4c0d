package integration

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/metrics"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

// reached collects which backends a VIP reaches over n connections.
func reached(vip string, port int32, n int) map[string]bool {
	seen := map[string]bool{}
	for range n {
		if tag := tcptest.Reach(fmt.Sprintf("%s:%d", vip, port)); tag != "" {
			seen[tag] = true
		}
	}
	return seen
}

// A VirtualMachineService gets a VIP that forwards real TCP to its VMs;
// VMs joining, leaving or changing IP change the servers behind the same
// VIP; a restarted controller keeps every VIP; deleting frees the VIP.
func TestVirtualMachineServiceVIPForwards(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	e := startLB(t, h, harness.LBOptions{})
	first := e.Object.Spec.AddressRanges[0].Address

	port := tcptest.FreePort(t)
	tcptest.Serve(t, fmt.Sprintf("127.41.0.2:%d", port), "cp-0")
	tcptest.Serve(t, fmt.Sprintf("127.41.0.3:%d", port), "cp-1")
	tcptest.Serve(t, fmt.Sprintf("127.41.0.4:%d", port), "cp-1-moved")
	e.vm("cp-0", map[string]string{"role": "cp"}, "127.41.0.2")
	cp1 := e.vm("cp-1", map[string]string{"role": "cp"}, "127.41.0.3")
	svc := e.vmService("cluster-api", map[string]string{"role": "cp"}, port, port)

	vip := e.waitVIP(svc)
	if vip != first {
		t.Errorf("want the lowest VIP of the range %s, got %s", first, vip)
	}
	if seen := reached(vip, port, 6); !seen["cp-0"] || !seen["cp-1"] {
		t.Fatalf("the VIP must reach both VMs, reached %v", seen)
	}
	e.waitCondition(svc, metav1.ConditionTrue, lbv1.ReasonVIPServing, vip)

	// A VM's IP changes: traffic follows it behind the same VIP.
	e.setVMIP(cp1, "127.41.0.4")
	wait.For(t, harness.Timeout, "traffic to follow the VM's new IP", func() (bool, error) {
		if seen := reached(vip, port, 6); !seen["cp-1-moved"] || seen["cp-1"] {
			return false, fmt.Errorf("reached %v", seen)
		}
		return true, nil
	})

	// A VM leaves the selector: traffic goes only to the other.
	cp1Base := cp1.DeepCopy()
	cp1.Labels = map[string]string{"role": "retired"}
	if err := h.Client.Patch(ctx, cp1, client.MergeFrom(cp1Base)); err != nil { // the VM service may be writing its status
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "traffic to follow the selector", func() (bool, error) {
		if seen := reached(vip, port, 6); seen["cp-1-moved"] || !seen["cp-0"] {
			return false, fmt.Errorf("reached %v", seen)
		}
		return true, nil
	})

	// A restarted controller keeps every VIP and hands out a new one.
	e.RestartController()
	second := e.vmService("second", map[string]string{"role": "cp"}, port, port)
	secondVIP := e.waitVIP(second)
	if secondVIP == vip {
		t.Fatalf("the restarted controller gave away %s, which cluster-api holds", vip)
	}
	if got := e.waitVIP(svc); got != vip {
		t.Errorf("the restart moved cluster-api's VIP from %s to %s", vip, got)
	}
	if tcptest.Reach(fmt.Sprintf("%s:%d", vip, port)) != "cp-0" {
		t.Error("the VIP stopped serving across the restart")
	}

	// Deleting a Service removes its proxy and frees its VIP for the next.
	if err := h.Client.Delete(ctx, second); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the deleted Service's VIP to stop answering", func() (bool, error) {
		if tcptest.Reach(fmt.Sprintf("%s:%d", secondVIP, port)) != "" {
			return false, fmt.Errorf("%s still answers", secondVIP)
		}
		return true, nil
	})
	third := e.vmService("third", map[string]string{"role": "cp"}, port, port)
	if got := e.waitVIP(third); got != secondVIP {
		t.Errorf("want the freed VIP %s reused, got %s", secondVIP, got)
	}

	// The LoadBalancer tells the admin what it sees.
	wait.For(t, harness.Timeout, "the LoadBalancer's status", func() (bool, error) {
		lb := e.loadBalancer()
		if lb.Status.APIVersion != "v3" || lb.Status.VIPsInUse != 2 || lb.Status.VIPsFree != 9 ||
			!meta.IsStatusConditionTrue(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable) {
			return false, fmt.Errorf("status %+v", lb.Status)
		}
		return true, nil
	})
}

// Requests the controller cannot honour are refused with a condition and an
// Event naming the field; a full range shows on the Service that waits, and
// a Service that stops being a LoadBalancer gives its VIP back.
func TestVIPRefusalsExhaustionAndTypeChange(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	e := startLB(t, h, harness.LBOptions{Ranges: []lbv1.AddressRange{{CIDR: fmt.Sprintf("127.42.%d.0/31", lbSerial.Add(1))}}})
	port := tcptest.FreePort(t)
	tcptest.Serve(t, fmt.Sprintf("127.41.1.2:%d", port), "vm")
	e.vm("vm", map[string]string{"app": "web"}, "127.41.1.2")

	odd := e.vmService("wants-odd-ip", nil, port, port)
	oddBase := odd.DeepCopy()
	odd.Spec.LoadBalancerIP = "10.1.2.3"
	if err := h.Client.Patch(ctx, odd, client.MergeFrom(oddBase)); err != nil { // lbapi may have written its status already
		t.Fatal(err)
	}
	e.waitCondition(odd, metav1.ConditionFalse, lbv1.ReasonVIPUnavailable, "spec.loadBalancerIP")
	e.waitEvent(odd.Name, lbv1.ReasonVIPUnavailable, "not in the load balancer's ranges")
	if err := h.Client.Delete(ctx, odd); err != nil {
		t.Fatal(err)
	}

	a := e.vmService("a", map[string]string{"app": "web"}, port, port)
	vipA := e.waitVIP(a)
	taken := e.vmService("wants-a", map[string]string{"app": "web"}, port+1, port)
	takenBase := taken.DeepCopy()
	taken.Spec.LoadBalancerIP = vipA
	if err := h.Client.Patch(ctx, taken, client.MergeFrom(takenBase)); err != nil { // lbapi may have written its status already
		t.Fatal(err)
	}
	e.waitCondition(taken, metav1.ConditionFalse, lbv1.ReasonVIPUnavailable, "already in use")
	e.waitEvent(taken.Name, lbv1.ReasonVIPUnavailable, "already in use")
	if err := h.Client.Delete(ctx, taken); err != nil {
		t.Fatal(err)
	}

	b := e.vmService("b", map[string]string{"app": "web"}, port, port)
	vipB := e.waitVIP(b)
	c := e.vmService("c", map[string]string{"app": "web"}, port, port)
	e.waitCondition(c, metav1.ConditionFalse, lbv1.ReasonVIPUnavailable, "no free VIP")
	e.waitEvent(c.Name, lbv1.ReasonVIPUnavailable, "no free VIP")

	// b becomes a ClusterIP service: its VIP leaves its status and goes to c.
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
		t.Fatal(err)
	}
	bBase := b.DeepCopy()
	b.Spec.Type = vmopv1.VirtualMachineServiceTypeClusterIP
	if err := h.Client.Patch(ctx, b, client.MergeFrom(bBase)); err != nil { // lbapi may be writing its status
		t.Fatal(err)
	}
	if got := e.waitVIP(c); got != vipB {
		t.Errorf("want c to get b's released VIP %s, got %s", vipB, got)
	}
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
		t.Fatal(err)
	}
	if len(b.Status.LoadBalancer.Ingress) != 0 || meta.FindStatusCondition(b.Status.Conditions, lbv1.ConditionLoadBalancerReady) != nil {
		t.Errorf("a ClusterIP service must not keep lbapi's VIP or condition: %+v", b.Status)
	}
	if tcptest.Reach(fmt.Sprintf("%s:%d", vipA, port)) != "vm" {
		t.Error("a's VIP must keep serving through all of this")
	}
}

// A configuration HAProxy refuses (haproxy -c at commit) costs only the
// Service that caused it: it gets an Event with HAProxy's reason and the
// rest of the batch is served.
func TestRejectedConfigKeepsTheRestOfTheBatch(t *testing.T) {
	h := harness.New(t, harness.Options{})
	e := startLB(t, h, harness.LBOptions{})
	port := tcptest.FreePort(t)
	tcptest.Serve(t, fmt.Sprintf("127.41.2.2:%d", port), "vm")
	e.vm("vm", map[string]string{"app": "web"}, "127.41.2.2")

	e.StopController() // create the batch while lbapi is down, so it lands in one sync
	good1 := e.vmService("good-1", map[string]string{"app": "web"}, port, port)
	bad := e.vmService("bad", map[string]string{"app": "web"}, port, 0) // a server without a port
	good2 := e.vmService("good-2", map[string]string{"app": "web"}, port, port)
	e.StartController()

	for _, s := range []*vmopv1.VirtualMachineService{good1, good2} {
		if tcptest.Reach(fmt.Sprintf("%s:%d", e.waitVIP(s), port)) != "vm" {
			t.Errorf("%s's VIP does not serve", s.Name)
		}
	}
	e.waitCondition(bad, metav1.ConditionFalse, lbv1.ReasonConfigRejected, "neither service port nor check port")
	e.waitEvent(bad.Name, lbv1.ReasonConfigRejected, "neither service port nor check port")
}

// While the Data Plane API is unreachable lbapi retries and says so on the
// LoadBalancer; once it is back everything converges and no VIP moves.
func TestDataPlaneAPIOutage(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	e := startLB(t, h, harness.LBOptions{})
	port := tcptest.FreePort(t)
	tcptest.Serve(t, fmt.Sprintf("127.41.3.2:%d", port), "vm")
	e.vm("vm", map[string]string{"app": "web"}, "127.41.3.2")
	before := e.vmService("before", map[string]string{"app": "web"}, port, port)
	vip := e.waitVIP(before)

	e.Forwarder.Cut()
	during := e.vmService("during", map[string]string{"app": "web"}, port, port)
	wait.For(t, harness.Timeout, "the LoadBalancer to report the API unreachable", func() (bool, error) {
		lb := e.loadBalancer()
		if c := meta.FindStatusCondition(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable); c == nil || c.Status != metav1.ConditionFalse || lb.Status.LastError == "" {
			return false, fmt.Errorf("status %+v", lb.Status)
		}
		return true, nil
	})
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(during), during); err != nil {
		t.Fatal(err)
	}
	if len(during.Status.LoadBalancer.Ingress) != 0 {
		t.Fatal("a VIP was published that HAProxy was never told about")
	}
	if tcptest.Reach(fmt.Sprintf("%s:%d", vip, port)) != "vm" {
		t.Error("HAProxy keeps serving while its API is away")
	}

	if err := e.Forwarder.Start(); err != nil {
		t.Fatal(err)
	}
	duringVIP := e.waitVIP(during)
	if tcptest.Reach(fmt.Sprintf("%s:%d", duringVIP, port)) != "vm" {
		t.Error("the Service created during the outage does not serve")
	}
	if got := e.waitVIP(before); got != vip {
		t.Errorf("the outage moved a VIP from %s to %s", vip, got)
	}
	wait.For(t, harness.Timeout, "the LoadBalancer to report the API reachable again", func() (bool, error) {
		lb := e.loadBalancer()
		if !meta.IsStatusConditionTrue(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable) || lb.Status.LastError != "" {
			return false, fmt.Errorf("status %+v", lb.Status)
		}
		return true, nil
	})
}

// 200 VirtualMachineServices created at once converge in a few transactions.
func TestManyVirtualMachineServicesConvergeInFewTransactions(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	n := lbSerial.Add(1)
	e := startLB(t, h, harness.LBOptions{Ranges: []lbv1.AddressRange{{CIDR: fmt.Sprintf("127.43.%d.0/24", n)}}})
	port := tcptest.FreePort(t)
	tcptest.Serve(t, fmt.Sprintf("127.41.4.2:%d", port), "vm")
	e.vm("vm", map[string]string{"app": "web"}, "127.41.4.2")

	e.StopController()
	var svcs []*vmopv1.VirtualMachineService
	for i := range 200 {
		svcs = append(svcs, e.vmService(fmt.Sprintf("svc-%03d", i), map[string]string{"app": "web"}, port, port))
	}
	e.StartController()
	vips := map[string]bool{}
	for _, s := range svcs {
		vip := e.waitVIP(s)
		if vips[vip] {
			t.Fatalf("VIP %s handed out twice", vip)
		}
		vips[vip] = true
	}
	e.StopController()
	if tx := e.Reconciler.Stats().Transactions; tx < 1 || tx > 3 {
		t.Errorf("want 200 Services in one to three transactions, took %d", tx)
	}
	for _, s := range svcs[:5] {
		if tcptest.Reach(fmt.Sprintf("%s:%d", s.Status.LoadBalancer.Ingress[0].IP, port)) != "vm" {
			t.Errorf("%s does not serve", s.Name)
		}
	}
	_ = ctx
}

// A core Service of type LoadBalancer is served from its EndpointSlices:
// HAProxy holds exactly its ready endpoints on the slice's port.
func TestCoreServiceFromEndpointSlices(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	e := startLB(t, h, harness.LBOptions{APIVersion: "v2"})
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "web"},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := h.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	// EndpointSlices refuse loopback addresses, and no traffic may leave
	// this machine: multicast addresses are valid endpoints to the API
	// server, and the kernel refuses TCP to them without sending a packet.
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: h.Namespace, Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"239.255.1.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			{Addresses: []string{"239.255.1.11"}},
			{Addresses: []string{"239.255.1.12"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
		},
	}
	if err := h.Client.Create(ctx, slice); err != nil {
		t.Fatal(err)
	}
	vip := e.waitVIP(svc)
	if svc.Status.LoadBalancer.Ingress[0].IPMode == nil || *svc.Status.LoadBalancer.Ingress[0].IPMode != corev1.LoadBalancerIPModeVIP {
		t.Errorf("want ipMode VIP, got %+v", svc.Status.LoadBalancer.Ingress[0])
	}
	if _, err := netip.ParseAddr(vip); err != nil {
		t.Fatal(err)
	}
	servers := func() string {
		caPool := []byte(e.Object.Spec.HAProxy.CertificateAuthorityChain)
		hc, err := dataplane.NewHTTPClient(caPool, false)
		if err != nil {
			t.Fatal(err)
		}
		host, port := e.Forwarder.HostPort()
		c := &dataplane.Client{BaseURL: fmt.Sprintf("https://%s:%d", host, port), HTTP: hc, Username: e.Username, Password: e.Password}
		list, err := c.Servers(ctx, haproxy.ProxyName("Service", h.Namespace, "web", 80), "")
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, s := range list {
			out = append(out, fmt.Sprintf("%s:%d", s.Address, *s.Port))
		}
		return strings.Join(out, ",")
	}
	if got := servers(); got != "239.255.1.10:8080,239.255.1.11:8080" {
		t.Errorf("want the two ready endpoints as servers, got %s", got)
	}

	// An endpoint turns ready: it joins.
	slice.Endpoints[2].Conditions.Ready = ptr.To(true)
	if err := h.Client.Update(ctx, slice); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the newly ready endpoint to join", func() (bool, error) {
		if got := servers(); got != "239.255.1.10:8080,239.255.1.11:8080,239.255.1.12:8080" {
			return false, fmt.Errorf("servers %s", got)
		}
		return true, nil
	})
	if lb := e.loadBalancer(); lb.Status.APIVersion != "v2" {
		t.Errorf("want the Data Plane API v2 detected, got %q", lb.Status.APIVersion)
	}

	// A Service of another load balancer class is not ours; one of lbapi's
	// class is. lbapi syncs every Service at once from its cache, which
	// sees Services in the order they were written: once the Service of
	// lbapi's class, created second, shows its VIP, a sync has seen the
	// other one too.
	other := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "not-ours"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: ptr.To("example.com/other"),
			Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := h.Client.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	ours := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "ours"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: ptr.To(controller.LoadBalancerClass),
			Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	if err := h.Client.Create(ctx, ours); err != nil {
		t.Fatal(err)
	}
	e.waitVIP(ours)
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
		t.Fatal(err)
	}
	if len(other.Status.LoadBalancer.Ingress) != 0 || meta.FindStatusCondition(other.Status.Conditions, lbv1.ConditionLoadBalancerReady) != nil {
		t.Errorf("lbapi served a Service of another class: %+v", other.Status)
	}
}

// The webhook refuses a LoadBalancer that cannot work, naming each field.
func TestLoadBalancerValidation(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	valid := func(name string) *lbv1.LoadBalancer {
		return &lbv1.LoadBalancer{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: lbv1.LoadBalancerSpec{
				Provider: lbv1.ProviderHAProxy,
				HAProxy: lbv1.HAProxyConfig{
					Servers:              []lbv1.DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5556}},
					CredentialsSecretRef: lbv1.SecretReference{Namespace: h.Namespace, Name: "creds"},
				},
				AddressRanges: []lbv1.AddressRange{{CIDR: "127.44.0.0/28"}, {Address: "127.44.1.1", Count: 10}},
			},
		}
	}
	cases := map[string]struct {
		mutate func(*lbv1.LoadBalancer)
		field  string
	}{
		"overlap": {func(lb *lbv1.LoadBalancer) {
			lb.Spec.AddressRanges[1] = lbv1.AddressRange{Address: "127.44.0.5", Count: 2}
		}, "spec.addressRanges[1]"},
		"bad cidr":    {func(lb *lbv1.LoadBalancer) { lb.Spec.AddressRanges[0].CIDR = "127.44.0.0/33" }, "spec.addressRanges[0].cidr"},
		"no count":    {func(lb *lbv1.LoadBalancer) { lb.Spec.AddressRanges[1].Count = 0 }, "spec.addressRanges[1].count"},
		"no secret":   {func(lb *lbv1.LoadBalancer) { lb.Spec.HAProxy.CredentialsSecretRef.Name = "" }, "spec.haProxy.credentialsSecretRef.name"},
		"bad address": {func(lb *lbv1.LoadBalancer) { lb.Spec.AddressRanges[1].Address = "127.44.1" }, "spec.addressRanges[1].address"},
	}
	for name, tc := range cases {
		lb := valid("invalid-" + strings.ReplaceAll(name, " ", "-") + "-" + h.Namespace)
		tc.mutate(lb)
		err := h.Client.Create(ctx, lb)
		if err == nil {
			_ = h.Client.Delete(ctx, lb)
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: the error must name %s, got: %v", name, tc.field, err)
		}
	}
	ok := valid("valid-" + h.Namespace)
	if err := h.Client.Create(ctx, ok); err != nil {
		t.Fatalf("a valid LoadBalancer was refused: %v", err)
	}
	_ = h.Client.Delete(ctx, ok)
}

// A reload that fails (here: the VIP:port is taken on the appliance) costs
// only the Service that caused it: the Service is refused with a condition
// naming the held address, the rest of the batch serves, later changes to
// other Services go live while it stays refused, and once the address is
// free the Service is served too. The appliance reports the failed reload.
func TestFailedReloadCostsOnlyItsService(t *testing.T) {
	failedReloadCostsOnlyItsService(t, harness.LBOptions{ReloadReport: appliance.ReportLoadOutcome}, "cannot bind socket")
}

// The same with an appliance that, as the real Data Plane API with a
// signal reload on HAProxy 2.6, reports the failed reload as succeeded:
// lbapi finds it from what HAProxy's running process runs (stats/native,
// here in the v2 wire format).
func TestUnreportedFailedReloadCostsOnlyItsService(t *testing.T) {
	before := metrics.Value(t, "supervisor_haproxy_commit_confirmations_total", map[string]string{"result": "not_live"})
	failedReloadCostsOnlyItsService(t, harness.LBOptions{ReloadReport: appliance.ReportSignalSent, APIVersion: "v2"}, "did not load")
	if after := metrics.Value(t, "supervisor_haproxy_commit_confirmations_total", map[string]string{"result": "not_live"}); after <= before {
		t.Errorf("want the commit that never went live counted in supervisor_haproxy_commit_confirmations_total{result=not_live}, stayed at %v", after)
	}
}

// The same when lbapi reloads HAProxy itself with each commit
// (force_reload, as the supervisor does by default): the appliance answers
// the failed reload with a 500 after the commit.
func TestFailedForcedReloadCostsOnlyItsService(t *testing.T) {
	failedReloadCostsOnlyItsService(t, harness.LBOptions{ReloadReport: appliance.ReportLoadOutcome, ReloadEvery: 200 * time.Millisecond}, "cannot bind socket")
}

// And when the appliance answers the failed forced reload as succeeded,
// as the real Data Plane API with a signal reload does.
func TestUnreportedFailedForcedReloadCostsOnlyItsService(t *testing.T) {
	failedReloadCostsOnlyItsService(t, harness.LBOptions{ReloadReport: appliance.ReportSignalSent, ReloadEvery: 200 * time.Millisecond}, "did not load")
}

func failedReloadCostsOnlyItsService(t *testing.T, opts harness.LBOptions, reason string) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	e := startLB(t, h, opts)
	port := tcptest.FreePort(t)
	tcptest.Serve(t, fmt.Sprintf("127.41.5.2:%d", port), "vm")
	e.vm("vm", map[string]string{"app": "web"}, "127.41.5.2")

	// Someone else holds the VIP:port a Service asks for.
	first := e.Object.Spec.AddressRanges[0].Address
	held := fmt.Sprintf("%s:%d", first, port)
	squatter, err := net.Listen("tcp", held)
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	e.StopController() // one batch holds both Services
	blocked := e.vmService("blocked", map[string]string{"app": "web"}, port, port)
	blocked.Spec.LoadBalancerIP = first
	if err := h.Client.Update(ctx, blocked); err != nil {
		t.Fatal(err)
	}
	fine := e.vmService("fine", map[string]string{"app": "web"}, port, port)
	e.StartController()

	if tcptest.Reach(fmt.Sprintf("%s:%d", e.waitVIP(fine), port)) != "vm" {
		t.Error("the rest of the batch must serve")
	}
	msg := "VIP " + held + " is held by another process"
	c := e.waitCondition(blocked, metav1.ConditionFalse, lbv1.ReasonConfigRejected, msg)
	if !strings.Contains(c.Message, reason) {
		t.Errorf("the condition must say why (%q): %s", reason, c.Message)
	}
	e.waitEvent(blocked.Name, lbv1.ReasonConfigRejected, msg)
	if len(blocked.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("a VIP HAProxy could not bind was published: %+v", blocked.Status.LoadBalancer)
	}

	// While the address stays held, other Services' changes go live: a
	// new Service, and a new VM behind fine.
	later := e.vmService("later", map[string]string{"app": "web"}, port, port)
	if tcptest.Reach(fmt.Sprintf("%s:%d", e.waitVIP(later), port)) != "vm" {
		t.Error("a Service created after the refusal must serve")
	}
	tcptest.Serve(t, fmt.Sprintf("127.41.5.3:%d", port), "vm-2")
	e.vm("vm-2", map[string]string{"app": "web"}, "127.41.5.3")
	fineVIP := e.waitVIP(fine)
	wait.For(t, harness.Timeout, "fine to reach the new VM", func() (bool, error) {
		if seen := reached(fineVIP, port, 6); !seen["vm-2"] {
			return false, fmt.Errorf("%s:%d reached %v", fineVIP, port, seen)
		}
		return true, nil
	})
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(blocked), blocked); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(blocked.Status.Conditions, lbv1.ConditionLoadBalancerReady); c == nil || c.Reason != lbv1.ReasonConfigRejected || len(blocked.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("blocked must stay refused while its address is held: %+v", blocked.Status)
	}

	// The address is freed: the next retry serves it through HAProxy.
	squatter.Close()
	if got := tcptest.Reach(fmt.Sprintf("%s:%d", e.waitVIP(blocked), port)); got != "vm" && got != "vm-2" {
		t.Errorf("blocked does not serve once its address is free, reached %q", got)
	}
	e.waitCondition(blocked, metav1.ConditionTrue, lbv1.ReasonVIPServing, first)
}
