package controller

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/cluster-api/util/patch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

// LoadBalancerClass is the spec.loadBalancerClass of Services lbapi serves
// besides those without a class.
const LoadBalancerClass = "lbapi.opensupervisor.io/haproxy"

// loadBalancerIPsAnnotations ask for a VIP on a core Service; MetalLB's
// keys are honoured so manifests written for it work unchanged.
var loadBalancerIPsAnnotations = []string{
	"lbapi.opensupervisor.io/loadBalancerIPs",
	"metallb.io/loadBalancerIPs",
	"metallb.universe.tf/loadBalancerIPs",
}

// kubeAPIServerPort gets an HTTPS /readyz health check instead of a TCP one.
const kubeAPIServerPort = 6443

// lbService is a VirtualMachineService or a core Service as lbapi sees it.
type lbService struct {
	key string
	obj client.Object
	// requested is the VIP asked for, and the field it was asked in.
	requested, requestedField string
	ports                     []int32
	status                    *corev1.LoadBalancerStatus
	conditions                *[]metav1.Condition
	// proxies are its HAProxy proxies once it has a VIP.
	proxies func(vip netip.Addr) []haproxy.Proxy
	// patcher holds the status as read, for the patch at the sync's end;
	// nil when the sync has nothing to write.
	patcher *patch.Helper
}

// served lists the Services to serve, sorted by key, and the ones that
// stopped being of type LoadBalancer but still show a VIP of ours.
func (r *Reconciler) served(ctx context.Context) (serve, stale []*lbService, err error) {
	var vmsvcs vmopv1.VirtualMachineServiceList
	if err := r.Client.List(ctx, &vmsvcs); err != nil {
		return nil, nil, fmt.Errorf("failed to list VirtualMachineServices: %w", err)
	}
	for i := range vmsvcs.Items {
		s := &vmsvcs.Items[i]
		if !s.DeletionTimestamp.IsZero() {
			continue
		}
		if s.Spec.Type != vmopv1.VirtualMachineServiceTypeLoadBalancer {
			stale = append(stale, fromVMService(s, nil))
			continue
		}
		eps, err := r.vmEndpoints(ctx, s)
		if err != nil {
			return nil, nil, err
		}
		serve = append(serve, fromVMService(s, eps))
	}

	var svcs corev1.ServiceList
	if err := r.Client.List(ctx, &svcs); err != nil {
		return nil, nil, fmt.Errorf("failed to list Services: %w", err)
	}
	for i := range svcs.Items {
		s := &svcs.Items[i]
		if !s.DeletionTimestamp.IsZero() || (s.Spec.LoadBalancerClass != nil && *s.Spec.LoadBalancerClass != LoadBalancerClass) {
			continue
		}
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			stale = append(stale, fromService(s, nil))
			continue
		}
		var slices discoveryv1.EndpointSliceList
		if err := r.Client.List(ctx, &slices, client.InNamespace(s.Namespace), client.MatchingLabels{discoveryv1.LabelServiceName: s.Name}); err != nil {
			return nil, nil, fmt.Errorf("failed to list the EndpointSlices of Service %s/%s: %w", s.Namespace, s.Name, err)
		}
		serve = append(serve, fromService(s, slices.Items))
	}
	sort.Slice(serve, func(i, j int) bool { return serve[i].key < serve[j].key })
	return serve, stale, nil
}

type vmEndpoint struct {
	name string
	addr netip.Addr
}

// vmEndpoints are the IPs of the VMs the selector matches.
func (r *Reconciler) vmEndpoints(ctx context.Context, s *vmopv1.VirtualMachineService) ([]vmEndpoint, error) {
	if len(s.Spec.Selector) == 0 {
		return nil, nil
	}
	var vms vmopv1.VirtualMachineList
	if err := r.Client.List(ctx, &vms, client.InNamespace(s.Namespace), client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(s.Spec.Selector)}); err != nil {
		return nil, fmt.Errorf("failed to list the VirtualMachines of VirtualMachineService %s/%s: %w", s.Namespace, s.Name, err)
	}
	var out []vmEndpoint
	for _, vm := range vms.Items {
		if vm.Status.Network == nil || !vm.DeletionTimestamp.IsZero() || !readyForTraffic(&vm) {
			continue
		}
		if a, err := netip.ParseAddr(vm.Status.Network.PrimaryIP4); err == nil {
			out = append(out, vmEndpoint{name: vm.Name, addr: a})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// readyForTraffic: a VM with a readiness probe serves only while its
// Ready condition is True, as vm-operator's VirtualMachineService puts
// only ready VMs among its endpoints; one without a probe always does.
func readyForTraffic(vm *vmopv1.VirtualMachine) bool {
	return vm.Spec.ReadinessProbe == nil || meta.IsStatusConditionTrue(vm.Status.Conditions, vmopv1.VirtualMachineConditionReady)
}

func fromVMService(s *vmopv1.VirtualMachineService, eps []vmEndpoint) *lbService {
	out := &lbService{
		key: "VirtualMachineService/" + s.Namespace + "/" + s.Name, obj: s,
		requested: s.Spec.LoadBalancerIP, requestedField: "spec.loadBalancerIP",
		status: &s.Status.LoadBalancer, conditions: &s.Status.Conditions,
	}
	var tcp []vmopv1.VirtualMachineServicePort
	for _, p := range s.Spec.Ports {
		if isTCP(p.Protocol) {
			tcp = append(tcp, p)
			out.ports = append(out.ports, p.Port)
		}
	}
	out.proxies = func(vip netip.Addr) []haproxy.Proxy {
		var proxies []haproxy.Proxy
		for _, p := range tcp {
			proxy := haproxy.Proxy{Name: haproxy.ProxyName("VirtualMachineService", s.Namespace, s.Name, p.Port), VIP: vip, Port: p.Port,
				HealthCheckTLS: p.TargetPort == kubeAPIServerPort}
			for _, e := range eps {
				proxy.Servers = append(proxy.Servers, haproxy.Server{Name: e.name, Address: e.addr, Port: p.TargetPort, Check: true})
			}
			proxies = append(proxies, proxy)
		}
		return proxies
	}
	return out
}

func fromService(s *corev1.Service, slices []discoveryv1.EndpointSlice) *lbService {
	out := &lbService{
		key: "Service/" + s.Namespace + "/" + s.Name, obj: s,
		status: &s.Status.LoadBalancer, conditions: &s.Status.Conditions,
	}
	out.requested, out.requestedField = s.Spec.LoadBalancerIP, "spec.loadBalancerIP"
	for _, k := range loadBalancerIPsAnnotations {
		if v, ok := s.Annotations[k]; ok {
			out.requested, out.requestedField = strings.TrimSpace(strings.Split(v, ",")[0]), "metadata.annotations["+k+"]"
			break
		}
	}
	var tcp []corev1.ServicePort
	for _, p := range s.Spec.Ports {
		if isTCP(string(p.Protocol)) {
			tcp = append(tcp, p)
			out.ports = append(out.ports, p.Port)
		}
	}
	out.proxies = func(vip netip.Addr) []haproxy.Proxy {
		var proxies []haproxy.Proxy
		for _, p := range tcp {
			proxy := haproxy.Proxy{Name: haproxy.ProxyName("Service", s.Namespace, s.Name, p.Port), VIP: vip, Port: p.Port}
			proxy.Servers = sliceServers(slices, p.Name)
			proxies = append(proxies, proxy)
		}
		return proxies
	}
	return out
}

// sliceServers are the ready endpoints of the slices' port named portName
// (EndpointSlice ports carry the Service port's name), one per address.
// Their readiness is the kubelet's; HAProxy does not check them again.
func sliceServers(slices []discoveryv1.EndpointSlice, portName string) []haproxy.Server {
	seen := map[netip.Addr]bool{}
	var out []haproxy.Server
	for _, sl := range slices {
		var port int32
		for _, p := range sl.Ports {
			if p.Port != nil && (p.Name == nil && portName == "" || p.Name != nil && *p.Name == portName) {
				port = *p.Port
			}
		}
		if port == 0 {
			continue
		}
		for _, ep := range sl.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
				continue
			}
			addr, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil || seen[addr] {
				continue
			}
			seen[addr] = true
			out = append(out, haproxy.Server{Name: addr.String(), Address: addr, Port: port})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func isTCP(protocol string) bool { return protocol == "" || strings.EqualFold(protocol, "TCP") }
