package ipam

import (
	"context"
	"net/netip"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
	"github.com/open-supervisor/supervisor/test/wait"
)

// gauge reads supervisor_workload_ip_addresses as /metrics shows it.
func gauge(t *testing.T, network, rng, state string) float64 {
	t.Helper()
	return testmetrics.Value(t, "supervisor_workload_ip_addresses", map[string]string{"network": network, "range": rng, "state": state})
}

// exported says whether /metrics has the series at all.
func exported(t *testing.T, network, rng string) bool {
	t.Helper()
	return testmetrics.Count(t, "supervisor_workload_ip_addresses", map[string]string{"network": network, "range": rng}) > 0
}

// export starts a MetricsExporter on r, as a manager starts it, and
// returns its stop.
func export(t *testing.T, r client.Reader) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = (&MetricsExporter{Reader: r}).Start(ctx) }()
	return func() { cancel(); <-done }
}

// An operator sees, per range, how many addresses VMs hold and how many
// are left, as VMs come and go, and the same after a supervisor restart
// (a new process reading the same API server).
func TestAddressMetrics(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	// Gateway 10.0.0.1 is in the first range (4 addresses, 3 usable); the
	// CIDR holds 10.1.0.1-10.1.0.2 (its network and broadcast excluded).
	nw := network("metrics-primary", "10.0.0.1-10.0.0.4", "10.1.0.0/30")
	broken := network("metrics-broken", "10.0.0.9-10.0.0.1")
	for _, o := range []client.Object{nw, broken} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	stop := export(t, c)
	defer func() { stop() }()
	wait.For(t, time.Minute, "the exporter to export", func() (bool, error) { return exported(t, nw.Name, "10.1.0.0/30"), nil })
	a := &Allocator{Client: c, Reader: c}

	type want struct{ inUse, free float64 }
	check := func(step string, first, cidr want) {
		t.Helper()
		for rng, w := range map[string]want{"10.0.0.1-10.0.0.4": first, "10.1.0.0/30": cidr} {
			inUse, free := gauge(t, nw.Name, rng, "in_use"), gauge(t, nw.Name, rng, "free")
			if inUse != w.inUse || free != w.free {
				t.Errorf("%s: range %s in_use %v free %v, want %v and %v", step, rng, inUse, free, w.inUse, w.free)
			}
		}
	}
	check("nothing allocated (an empty range is exported with its free addresses)", want{0, 3}, want{0, 2})
	for _, uid := range []string{"a", "b", "c", "d"} {
		if _, err := a.Ensure(ctx, nw, owner(uid)); err != nil {
			t.Fatal(err)
		}
	}
	check("four VMs", want{3, 0}, want{1, 1})
	if err := a.Release(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	check("one released", want{2, 1}, want{1, 1})
	if exported(t, broken.Name, "10.0.0.9-10.0.0.1") {
		t.Error("a network whose ranges do not parse has no addresses to count")
	}

	// A restart: the old process is gone, the new one reads the same
	// objects (a fresh client over them) and counts the same.
	stop()
	if exported(t, nw.Name, "10.0.0.1-10.0.0.4") {
		t.Error("with no running manager nothing is exported")
	}
	var allocs vspherev1.IPAddressAllocationList
	if err := c.List(ctx, &allocs); err != nil {
		t.Fatal(err)
	}
	restarted := newFakeClient(t, nil)
	for _, o := range []client.Object{nw.DeepCopy(), broken.DeepCopy()} {
		o.SetResourceVersion("")
		if err := restarted.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for i := range allocs.Items {
		allocs.Items[i].ResourceVersion = ""
		if err := restarted.Create(ctx, &allocs.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
	stop = export(t, restarted)
	wait.For(t, time.Minute, "the restarted exporter to export", func() (bool, error) { return exported(t, nw.Name, "10.1.0.0/30"), nil })
	check("after a restart", want{2, 1}, want{1, 1})
}

// The counts come from the allocations, whoever made them: another
// supervisor's, a duplicate left by racing reconciles, one outside the
// ranges (the ranges were narrowed since) and one on another network.
func TestCountAddresses(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	nw := network("primary", "10.0.0.2-10.0.0.9")
	if err := c.Create(ctx, nw); err != nil {
		t.Fatal(err)
	}
	record := func(network, addr, uid string) {
		t.Helper()
		if err := c.Create(ctx, &vspherev1.IPAddressAllocation{
			ObjectMeta: metav1.ObjectMeta{Name: AllocationName(network, netip.MustParseAddr(addr)), Labels: map[string]string{
				vspherev1.AllocationNetworkLabel: network, vspherev1.AllocationOwnerUIDLabel: uid,
			}},
			Spec: vspherev1.IPAddressAllocationSpec{Network: network, Address: addr, Owner: owner(uid)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	record("primary", "10.0.0.2", "a")
	record("primary", "10.0.0.3", "a")
	record("primary", "10.0.0.9", "other-supervisor")
	record("primary", "10.0.0.200", "b")
	record("secondary", "10.0.0.4", "c")
	got, err := CountAddresses(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []RangeAddresses{{Network: "primary", Range: "10.0.0.2-10.0.0.9", InUse: 3, Free: 5}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
