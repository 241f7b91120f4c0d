package controller

import (
	"errors"
	"net/netip"
	"reflect"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/iprange"
	"github.com/open-supervisor/supervisor/lbapi/allocator"
)

// svc is a Service of a step: its name, the VIP its status shows, and the
// VIP it asks for (a spec field or a MetalLB annotation).
type svc struct {
	name, status, requested string
	annotated               bool
}

func (s svc) lbService() *lbService {
	if s.annotated {
		core := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: s.name,
			Annotations: map[string]string{"metallb.io/loadBalancerIPs": s.requested}}}
		core.Spec.Type = corev1.ServiceTypeLoadBalancer
		if s.status != "" {
			core.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: s.status}}
		}
		return fromService(core, nil)
	}
	vms := &vmopv1.VirtualMachineService{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: s.name}}
	vms.Spec.Type, vms.Spec.LoadBalancerIP = vmopv1.VirtualMachineServiceTypeLoadBalancer, s.requested
	if s.status != "" {
		vms.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: s.status}}
	}
	return fromVMService(vms, nil)
}

// The allocation is rebuilt on every sync, and from scratch after a
// restart: one process's syncs as an ordered table of steps, each checking
// that no VIP is handed out twice, that VIPs in status stay put, and that
// the inputs are left alone.
func TestAllocateRebuildSteps(t *testing.T) {
	ranges, err := iprange.ParseAll([]string{"127.30.0.1-127.30.0.4"})
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		name string
		// restart forgets what the last sync handed out, as a new process.
		restart     bool
		services    []svc
		want        map[string]string // name -> VIP
		wantRefused map[string]error  // name -> why not
	}
	steps := []step{{
		name:    "a restart keeps the VIPs in status and gives a new Service the lowest one nobody holds",
		restart: true,
		services: []svc{
			{name: "a", status: "127.30.0.3"}, {name: "b", status: "127.30.0.1"}, {name: "c"},
		},
		want: map[string]string{"a": "127.30.0.3", "b": "127.30.0.1", "c": "127.30.0.2"},
	}, {
		name: "a Service whose status write is not seen yet keeps its VIP though a lower one is free",
		services: []svc{
			// b was deleted, freeing .1; c's status does not show .2 yet.
			{name: "a", status: "127.30.0.3"}, {name: "c"}, {name: "d"},
		},
		want: map[string]string{"a": "127.30.0.3", "c": "127.30.0.2", "d": "127.30.0.1"},
	}, {
		name: "a VIP two statuses claim stays with the first; the other gets a free one",
		services: []svc{
			{name: "a", status: "127.30.0.3"}, {name: "c", status: "127.30.0.2"}, {name: "d", status: "127.30.0.3"},
		},
		want: map[string]string{"a": "127.30.0.3", "c": "127.30.0.2", "d": "127.30.0.1"},
	}, {
		name:    "after a restart a VIP asked for in an annotation is kept, one held by another is refused",
		restart: true,
		services: []svc{
			{name: "a", status: "127.30.0.3"},
			{name: "e", requested: "127.30.0.4", annotated: true},
			{name: "f", requested: "127.30.0.3"},
			{name: "g", status: "127.30.0.9"}, // outside the ranges (they shrank)
		},
		want:        map[string]string{"a": "127.30.0.3", "e": "127.30.0.4", "g": "127.30.0.1"},
		wantRefused: map[string]error{"f": allocator.ErrTaken},
	}, {
		name: "a Service moves to the VIP it asks for and frees its old one; full ranges refuse the rest",
		services: []svc{
			{name: "a", status: "127.30.0.3", requested: "127.30.0.2"},
			{name: "e", status: "127.30.0.4", requested: "127.30.0.4", annotated: true},
			{name: "g", status: "127.30.0.1"},
			{name: "h"}, {name: "i"},
		},
		want:        map[string]string{"a": "127.30.0.2", "e": "127.30.0.4", "g": "127.30.0.1", "h": "127.30.0.3"},
		wantRefused: map[string]error{"i": allocator.ErrExhausted},
	}}

	var previous map[string]netip.Addr
	for _, st := range steps {
		if st.restart {
			previous = nil
		}
		var serve []*lbService
		for _, s := range st.services {
			serve = append(serve, s.lbService())
		}
		sort.Slice(serve, func(i, j int) bool { return serve[i].key < serve[j].key })
		statusBefore := map[string][]corev1.LoadBalancerIngress{}
		for _, s := range serve {
			statusBefore[s.key] = append([]corev1.LoadBalancerIngress(nil), s.status.Ingress...)
		}
		previousBefore := map[string]netip.Addr{}
		for k, v := range previous {
			previousBefore[k] = v
		}

		got := allocate(ranges, serve, previous)

		byName := map[string]string{}
		holder := map[netip.Addr]string{}
		for _, s := range serve {
			vip, ok := got.vips[s.key]
			if !ok {
				continue
			}
			if other, taken := holder[vip]; taken {
				t.Fatalf("%s: %s handed to both %s and %s", st.name, vip, other, s.key)
			}
			holder[vip] = s.key
			byName[s.obj.GetName()] = vip.String()
		}
		if len(st.want) != len(byName) || !reflect.DeepEqual(st.want, byName) {
			t.Fatalf("%s:\n got %v\nwant %v (refused %v)", st.name, byName, st.want, got.refused)
		}
		for _, s := range serve {
			want, got := st.wantRefused[s.obj.GetName()], got.refused[s.key]
			if (want == nil) != (got == nil) || want != nil && !errors.Is(got, want) {
				t.Fatalf("%s: %s refused with %v, want %v", st.name, s.obj.GetName(), got, want)
			}
			if !reflect.DeepEqual(s.status.Ingress, statusBefore[s.key]) && len(s.status.Ingress)+len(statusBefore[s.key]) > 0 {
				t.Fatalf("%s: allocate changed the status of %s", st.name, s.key)
			}
		}
		if len(previous) != len(previousBefore) || (len(previous) > 0 && !reflect.DeepEqual(previous, previousBefore)) {
			t.Fatalf("%s: allocate changed the previous allocation", st.name)
		}
		if got.inUse+got.free != 4 || got.inUse < len(got.vips) {
			t.Fatalf("%s: in use %d, free %d for %d VIPs", st.name, got.inUse, got.free, len(got.vips))
		}
		if ranges[0].First.String() != "127.30.0.1" || ranges[0].Last.String() != "127.30.0.4" {
			t.Fatalf("%s: allocate changed the ranges", st.name)
		}
		previous = got.vips
	}
}
