package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

// The Data Plane API goes away (its listener closed) for a while, then
// HAProxy's master is killed with SIGKILL and the appliance started again,
// while VirtualMachineServices and a core Service of type LoadBalancer come
// and go. HAProxy must keep serving while only its API is away; afterwards
// every Service has a VIP of its own that answers real TCP, no VIP moved,
// and deleting them leaves no VIP, proxy or allocation.
func TestLoadBalancerFaults(t *testing.T) {
	t.Parallel()
	runScenario(t, "HAProxy: Data Plane API unreachable, master SIGKILLed and appliance restarted, Services coming and going", loadBalancerFaults)
}

// lbRun is one run's load balancer and what it serves.
type lbRun struct {
	s    *scenario
	h    *harness.Harness
	lb   *harness.LB
	port int32
	// live are the Services that should be served, by name; core names
	// the core Service among them (its endpoints take no TCP).
	live map[string]client.Object
	core string
}

func loadBalancerFaults(s *scenario) {
	t := s.t
	ctx := context.Background()
	n := serial.Add(1)
	h := harness.New(t, harness.Options{})
	r := &lbRun{s: s, h: h, live: map[string]client.Object{}, core: "web"}
	r.lb = h.StartLB(harness.LBOptions{Ranges: []lbv1.AddressRange{{Address: fmt.Sprintf("127.49.%d.10", n), Count: 16}}})
	r.port = tcptest.FreePort(t)
	backend := fmt.Sprintf("127.50.%d.2", n)
	tcptest.Serve(t, fmt.Sprintf("%s:%d", backend, r.port), "vm")
	r.fakeVM("backend", backend)

	services, outage := 4, time.Duration(0)
	if full() {
		services, outage = 8, 60*time.Second
	}
	for i := range services {
		r.vmService(fmt.Sprintf("svc-%d", i))
	}
	r.coreService()
	first := r.waitServing(harnessTimeout)

	// The Data Plane API away; HAProxy keeps serving what it has.
	r.lb.Forwarder.Cut()
	cut := time.Now()
	s.fault(1, "Data Plane API listener closed")
	r.delete("svc-0")
	r.vmService(fmt.Sprintf("svc-%d", services))
	s.converged(harnessTimeout, "the LoadBalancer to report its Data Plane API unreachable", func() (bool, error) {
		lb := &lbv1.LoadBalancer{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(r.lb.Object), lb); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable)
		return c != nil && c.Status == metav1.ConditionFalse, fmt.Errorf("condition %+v", c)
	})
	if got := tcptest.Reach(r.addr(first["svc-1"])); got != "vm" {
		s.violate("svc-1's VIP %s stopped serving while only the Data Plane API was away (answered %q)", first["svc-1"], got)
	}
	if rest := outage - time.Since(cut); rest > 0 {
		// The outage's length is the fault itself, not a wait for anything.
		time.Sleep(rest)
	}
	s.must(r.lb.Forwarder.Start())
	s.note("Data Plane API outage: %s", time.Since(cut).Round(time.Second))
	second := r.waitServing(converge)
	r.noVIPMoved(first, second)

	// HAProxy's master killed: every VIP goes dark until the appliance is
	// back and lbapi has programmed it again.
	r.killHAProxy()
	r.restartAppliance()
	s.fault(1, "HAProxy master SIGKILLed, appliance restarted")
	// Nothing changed in Kubernetes: lbapi has to notice by itself that the
	// appliance lost its proxies (its resync of a converged sync).
	if err := wait.Poll(ctx, wait.Interval, harnessTimeout, "the VIPs back before any Service changes", func() (bool, error) {
		return tcptest.Reach(r.addr(second["svc-1"])) == "vm", nil
	}); err != nil {
		s.violate("the VIPs stayed dark after the appliance came back empty until a Service changed: lbapi does not notice an appliance that lost its proxies (%v)", err)
	}
	r.delete("svc-1")
	r.vmService(fmt.Sprintf("svc-%d", services+1))
	third := r.waitServing(converge)
	r.noVIPMoved(second, third)

	// Everything deleted: nothing may stay behind.
	for name := range r.live {
		r.delete(name)
	}
	s.converged(converge, "no proxy left in HAProxy, no VIP in use or answering", func() (bool, error) {
		proxies, err := r.proxies()
		if err != nil || len(proxies) > 0 {
			return false, fmt.Errorf("proxies %v (%v)", proxies, err)
		}
		lb := &lbv1.LoadBalancer{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(r.lb.Object), lb); err != nil {
			return false, err
		}
		if lb.Status.VIPsInUse != 0 {
			return false, fmt.Errorf("%d VIPs in use", lb.Status.VIPsInUse)
		}
		for name, vip := range third {
			if c, err := net.DialTimeout("tcp", r.addr(vip), time.Second); err == nil {
				_ = c.Close()
				return false, fmt.Errorf("VIP %s of deleted %s still answers", vip, name)
			}
		}
		return true, nil
	})
	s.noAllocationsLeft(h)
	key, err := os.ReadFile(filepath.Join(r.dir(), "server.key"))
	s.must(err)
	secrets := map[string]string{"the Data Plane API password": r.lb.Password, "the appliance's TLS private key": string(key)}
	s.noSecretsInLogs(secrets)
	s.noSecretsInFile(filepath.Join(r.dir(), "haproxy.log"), secrets)
}

// addr is a VIP's address on the Services' port.
func (r *lbRun) addr(vip string) string { return net.JoinHostPort(vip, strconv.Itoa(int(r.port))) }

// dir is the appliance's directory (haproxy.cfg, its pidfile, TLS files).
func (r *lbRun) dir() string { return filepath.Dir(r.lb.App.ConfigPath()) }

// fakeVM creates a VirtualMachine whose status reports ip: the VM service
// does not run here, lbapi only reads VMs.
func (r *lbRun) fakeVM(name, ip string) {
	ctx := context.Background()
	vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: r.h.Namespace, Name: name, Labels: map[string]string{"app": "web"}}}
	r.s.must(r.h.Client.Create(ctx, vm))
	vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: ip}
	r.s.must(r.h.Client.Status().Update(ctx, vm))
}

func (r *lbRun) vmService(name string) {
	svc := &vmopv1.VirtualMachineService{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.h.Namespace, Name: name},
		Spec: vmopv1.VirtualMachineServiceSpec{
			Type: vmopv1.VirtualMachineServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []vmopv1.VirtualMachineServicePort{{Name: "p", Protocol: "TCP", Port: r.port, TargetPort: r.port}},
		},
	}
	r.s.must(r.h.Client.Create(context.Background(), svc))
	r.live[name] = svc
}

// coreService creates a Service of type LoadBalancer with an EndpointSlice
// of its own. EndpointSlices refuse loopback addresses and no traffic may
// leave this machine, so its endpoint is a multicast address the kernel
// refuses to connect to: its VIP accepts connections but serves nothing.
func (r *lbRun) coreService() {
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.h.Namespace, Name: r.core},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: r.port, Protocol: corev1.ProtocolTCP}},
		},
	}
	r.s.must(r.h.Client.Create(ctx, svc))
	r.s.must(r.h.Client.Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: r.h.Namespace, Name: r.core + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: r.core}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"239.255.1.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}))
	r.live[r.core] = svc
}

func (r *lbRun) delete(name string) {
	obj := r.live[name]
	r.s.must(client.IgnoreNotFound(r.h.Client.Delete(context.Background(), obj)))
	delete(r.live, name)
}

// waitServing waits until every live Service has a VIP that answers TCP
// (with the backend's tag, for VirtualMachineServices), no two share one,
// and HAProxy holds exactly their proxies; it returns the VIPs by name.
func (r *lbRun) waitServing(timeout time.Duration) map[string]string {
	ctx := context.Background()
	var vips map[string]string
	r.s.converged(timeout, fmt.Sprintf("%d Services served from VIPs of their own", len(r.live)), func() (bool, error) {
		vips = map[string]string{}
		owner := map[string]string{}
		for name, obj := range r.live {
			if err := r.h.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return false, err
			}
			var ing []corev1.LoadBalancerIngress
			switch o := obj.(type) {
			case *vmopv1.VirtualMachineService:
				ing = o.Status.LoadBalancer.Ingress
			case *corev1.Service:
				ing = o.Status.LoadBalancer.Ingress
			}
			if len(ing) == 0 {
				return false, fmt.Errorf("%s has no VIP yet", name)
			}
			vip := ing[0].IP
			if other, ok := owner[vip]; ok {
				// Published twice: that is never a transient state.
				r.s.violate("VIP %s published for both %s and %s", vip, other, name)
				r.s.t.FailNow()
			}
			owner[vip], vips[name] = name, vip
			addr := r.addr(vip)
			if name == r.core {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					return false, fmt.Errorf("%s's VIP %s: %w", name, addr, err)
				}
				_ = c.Close()
			} else if got := tcptest.Reach(addr); got != "vm" {
				return false, fmt.Errorf("%s's VIP %s answers %q", name, addr, got)
			}
		}
		proxies, err := r.proxies()
		if err != nil {
			return false, err
		}
		if len(proxies) != 2*len(r.live) {
			return false, fmt.Errorf("HAProxy holds %v for %d Services", proxies, len(r.live))
		}
		return true, nil
	})
	return vips
}

// noVIPMoved checks that a Service served before and after a fault kept
// its VIP.
func (r *lbRun) noVIPMoved(before, after map[string]string) {
	for name, vip := range after {
		if old, ok := before[name]; ok && old != vip {
			r.s.violate("%s's VIP moved from %s to %s", name, old, vip)
		}
	}
}

// proxies are the frontends and backends of Services in haproxy.cfg
// (lbapi's other objects, such as its commit markers, serve no VIP).
func (r *lbRun) proxies() ([]string, error) {
	b, err := os.ReadFile(r.lb.App.ConfigPath())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "frontend" || f[0] == "backend") && (strings.HasPrefix(f[1], haproxy.Prefix+"service_") || strings.HasPrefix(f[1], haproxy.Prefix+"virtualmachineservice_")) {
			out = append(out, f[1])
		}
	}
	return out, nil
}

// killHAProxy sends SIGKILL to HAProxy's master (its pidfile's PID) and
// waits until the VIPs stop answering, which shows the fault took.
func (r *lbRun) killHAProxy() {
	b, err := os.ReadFile(filepath.Join(r.dir(), "haproxy.pid"))
	r.s.must(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	r.s.must(err)
	r.s.must(syscall.Kill(pid, syscall.SIGKILL))
	r.s.converged(harnessTimeout, "every VIP dark after HAProxy's master was killed", func() (bool, error) {
		for _, obj := range r.live {
			var ing []corev1.LoadBalancerIngress
			switch o := obj.(type) {
			case *vmopv1.VirtualMachineService:
				ing = o.Status.LoadBalancer.Ingress
			case *corev1.Service:
				ing = o.Status.LoadBalancer.Ingress
			}
			if len(ing) == 0 {
				continue
			}
			if c, err := net.DialTimeout("tcp", r.addr(ing[0].IP), time.Second); err == nil {
				_ = c.Close()
				return false, fmt.Errorf("%s still answers", ing[0].IP)
			}
		}
		return true, nil
	})
}

// restartAppliance starts the appliance again where it was (same
// directory, address, credentials and certificate), as the appliance VM
// coming back would. The appliance cannot restart HAProxy alone (it
// signals the process it started), so it starts afresh, with the initial
// haproxy.cfg: lbapi must program every proxy again.
func (r *lbRun) restartAppliance() {
	old := r.lb.App
	old.Stop()
	dir := r.dir()
	app, err := appliance.Start(context.Background(), appliance.Options{
		Dir: dir, Listen: strings.TrimPrefix(old.URL, "https://"), Username: r.lb.Username, Password: r.lb.Password,
		CertFile: filepath.Join(dir, "server.crt"), KeyFile: filepath.Join(dir, "server.key"), ReloadDelay: 200 * time.Millisecond,
	})
	r.s.must(err)
	r.s.t.Cleanup(app.Stop)
	r.lb.App = app
}
