package haproxy_test

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/open-supervisor/supervisor/lbapi/haproxy"
)

func server(name, addr string, port int32) haproxy.Server {
	return haproxy.Server{Name: name, Address: netip.MustParseAddr(addr), Port: port, Check: true}
}

func proxy(name, vip string, port int32, servers ...haproxy.Server) haproxy.Proxy {
	return haproxy.Proxy{Name: name, VIP: netip.MustParseAddr(vip), Port: port, Servers: servers}
}

// deepCopy copies a proxy map, Servers slices included, to compare after.
func deepCopy(in map[string]haproxy.Proxy) map[string]haproxy.Proxy {
	out := map[string]haproxy.Proxy{}
	for k, p := range in {
		p.Servers = append([]haproxy.Server(nil), p.Servers...)
		out[k] = p
	}
	return out
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name             string
		current, desired map[string]haproxy.Proxy
		want             haproxy.Changes
	}{{
		name:    "nothing to do",
		current: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 80, server("vm-a", "10.0.0.1", 8080))},
		desired: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 80, server("vm-a", "10.0.0.1", 8080))},
		want:    haproxy.Changes{AddServers: map[string][]haproxy.Server{}, DelServers: map[string][]string{}},
	}, {
		name:    "a new proxy is created, one nobody wants is deleted",
		current: map[string]haproxy.Proxy{"lb_old": proxy("lb_old", "127.30.0.9", 80)},
		desired: map[string]haproxy.Proxy{
			"lb_b": proxy("lb_b", "127.30.0.2", 80, server("vm-b", "10.0.0.2", 80), server("vm-a", "10.0.0.1", 80)),
			"lb_a": proxy("lb_a", "127.30.0.1", 80),
		},
		want: haproxy.Changes{
			// Ordered by name, servers too.
			Create: []haproxy.Proxy{
				proxy("lb_a", "127.30.0.1", 80),
				proxy("lb_b", "127.30.0.2", 80, server("vm-a", "10.0.0.1", 80), server("vm-b", "10.0.0.2", 80)),
			},
			Delete:     []string{"lb_old"},
			AddServers: map[string][]haproxy.Server{}, DelServers: map[string][]string{},
		},
	}, {
		name:    "a moved VIP rebinds the proxy, its servers stay",
		current: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 80, server("vm-a", "10.0.0.1", 80))},
		desired: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.5", 443, server("vm-a", "10.0.0.1", 80))},
		want: haproxy.Changes{
			Rebind:     []haproxy.Proxy{proxy("lb_a", "127.30.0.5", 443, server("vm-a", "10.0.0.1", 80))},
			AddServers: map[string][]haproxy.Server{}, DelServers: map[string][]string{},
		},
	}, {
		name: "servers join, leave and change address",
		current: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 80,
			server("vm-a", "10.0.0.1", 80), server("vm-b", "10.0.0.2", 80), server("vm-c", "10.0.0.3", 80))},
		desired: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 80,
			server("vm-d", "10.0.0.4", 80), server("vm-a", "10.0.0.1", 80), server("vm-c", "10.0.0.30", 80))},
		want: haproxy.Changes{
			AddServers: map[string][]haproxy.Server{"lb_a": {server("vm-c", "10.0.0.30", 80), server("vm-d", "10.0.0.4", 80)}},
			DelServers: map[string][]string{"lb_a": {"vm-b", "vm-c"}},
		},
	}, {
		name:    "a changed health check replaces the proxy",
		current: map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 6443, server("cp-0", "10.0.0.1", 6443))},
		desired: map[string]haproxy.Proxy{"lb_a": {Name: "lb_a", VIP: netip.MustParseAddr("127.30.0.1"), Port: 6443,
			Servers: []haproxy.Server{server("cp-0", "10.0.0.1", 6443)}, HealthCheckTLS: true}},
		want: haproxy.Changes{
			Delete: []string{"lb_a"},
			Create: []haproxy.Proxy{{Name: "lb_a", VIP: netip.MustParseAddr("127.30.0.1"), Port: 6443,
				Servers: []haproxy.Server{server("cp-0", "10.0.0.1", 6443)}, HealthCheckTLS: true}},
			AddServers: map[string][]haproxy.Server{}, DelServers: map[string][]string{},
		},
	}, {
		name:    "everything removed",
		current: map[string]haproxy.Proxy{"lb_b": proxy("lb_b", "127.30.0.2", 80), "lb_a": proxy("lb_a", "127.30.0.1", 80)},
		desired: map[string]haproxy.Proxy{},
		want: haproxy.Changes{Delete: []string{"lb_a", "lb_b"},
			AddServers: map[string][]haproxy.Server{}, DelServers: map[string][]string{}},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			current, desired := deepCopy(tc.current), deepCopy(tc.desired)
			got := haproxy.Plan(tc.current, tc.desired)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Plan:\n got %+v\nwant %+v", got, tc.want)
			}
			if got.Empty() != reflect.DeepEqual(tc.want, haproxy.Changes{AddServers: map[string][]haproxy.Server{}, DelServers: map[string][]string{}}) {
				t.Errorf("Empty() = %v for %+v", got.Empty(), got)
			}
			if !reflect.DeepEqual(tc.current, current) || !reflect.DeepEqual(tc.desired, desired) {
				t.Errorf("Plan changed its inputs:\ncurrent %+v\ndesired %+v", tc.current, tc.desired)
			}
		})
	}
}

// The caller's servers keep their order and the plan owns its slices: a
// caller that changes its map afterwards does not change the plan.
func TestPlanDoesNotSortOrShareTheCallersSlices(t *testing.T) {
	unsorted := func() []haproxy.Server {
		return []haproxy.Server{server("vm-c", "10.0.0.3", 80), server("vm-a", "10.0.0.1", 80), server("vm-b", "10.0.0.2", 80)}
	}
	desired := map[string]haproxy.Proxy{"lb_a": proxy("lb_a", "127.30.0.1", 80, unsorted()...)}
	before := append([]haproxy.Server(nil), desired["lb_a"].Servers...)

	ch := haproxy.Plan(map[string]haproxy.Proxy{}, desired)
	if !reflect.DeepEqual(desired["lb_a"].Servers, before) {
		t.Fatalf("Plan sorted the caller's servers in place: %v", desired["lb_a"].Servers)
	}
	if got := ch.Create[0].Servers; got[0].Name != "vm-a" || got[2].Name != "vm-c" {
		t.Fatalf("the plan's servers are not ordered by name: %v", got)
	}
	desired["lb_a"].Servers[0].Name = "changed-by-caller"
	if ch.Create[0].Servers[2].Name != "vm-c" {
		t.Fatal("the plan shares its Servers slice with the caller")
	}

	servers := unsorted()
	sorted := haproxy.Sorted(map[string]haproxy.Proxy{"lb_x": proxy("lb_x", "127.30.0.1", 80, servers...)})
	if servers[0].Name != "vm-c" || sorted[0].Servers[0].Name != "vm-a" {
		t.Fatalf("Sorted must order a copy: caller %v, sorted %v", servers, sorted[0].Servers)
	}
}
