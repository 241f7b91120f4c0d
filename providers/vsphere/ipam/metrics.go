package ipam

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// addressesDesc is supervisor_workload_ip_addresses on /metrics.
var addressesDesc = prometheus.NewDesc(
	"supervisor_workload_ip_addresses",
	"Addresses of a WorkloadNetwork's range (as spec.addressRanges writes it), by state: in_use (allocated to a VM) or free (the gateway excluded).",
	[]string{"network", "range", "state"}, nil,
)

// collectTimeout bounds one scrape's reads, so a cache that cannot sync
// never hangs /metrics.
const collectTimeout = 10 * time.Second

// addressCollector computes the gauge on every scrape from the
// WorkloadNetworks and IPAddressAllocations themselves (the source of
// truth, which a restarted supervisor reads again), never from counts kept
// alongside the allocator that a crash or another supervisor would skew.
type addressCollector struct {
	mu sync.Mutex
	// readers are the running managers' caches, the latest last; the
	// collector reads the latest (a process runs one, tests run several).
	readers []*client.Reader
}

var addresses = &addressCollector{}

func init() {
	metrics.Registry.MustRegister(addresses)
}

// Describe implements prometheus.Collector.
func (c *addressCollector) Describe(ch chan<- *prometheus.Desc) { ch <- addressesDesc }

// Collect implements prometheus.Collector.
func (c *addressCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	var r client.Reader
	if n := len(c.readers); n > 0 {
		r = *c.readers[n-1]
	}
	c.mu.Unlock()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	counts, err := CountAddresses(ctx, r)
	if err != nil {
		// One failed read must not fail every other metric of the scrape.
		ctrl.Log.WithName("ipam").Error(err, "Not exporting supervisor_workload_ip_addresses this scrape")
		return
	}
	for _, a := range counts {
		ch <- prometheus.MustNewConstMetric(addressesDesc, prometheus.GaugeValue, float64(a.InUse), a.Network, a.Range, "in_use")
		ch <- prometheus.MustNewConstMetric(addressesDesc, prometheus.GaugeValue, float64(a.Free), a.Network, a.Range, "free")
	}
}

// add makes r the reader scrapes use until remove.
func (c *addressCollector) add(r *client.Reader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readers = append(c.readers, r)
}

func (c *addressCollector) remove(r *client.Reader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readers = slices.DeleteFunc(c.readers, func(x *client.Reader) bool { return x == r })
}

// MetricsExporter is a manager Runnable that exports
// supervisor_workload_ip_addresses read through Reader (the manager's
// cache) while the manager runs. Every replica exports it, leader or not:
// the counts are the cluster's, not the leader's.
type MetricsExporter struct {
	Reader client.Reader
}

// Start exports until ctx ends.
func (e *MetricsExporter) Start(ctx context.Context) error {
	r := &e.Reader
	addresses.add(r)
	defer addresses.remove(r)
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: a standby replica's /metrics counts too.
func (e *MetricsExporter) NeedLeaderElection() bool { return false }

// RangeAddresses counts one range of a WorkloadNetwork.
type RangeAddresses struct {
	// Network is the WorkloadNetwork's name; Range the range as its
	// spec.addressRanges writes it.
	Network, Range string
	// InUse addresses are allocated; Free ones can be (the network's
	// gateway is never handed out, so it is neither).
	InUse, Free int
}

// CountAddresses counts the addresses in use and free of every range of
// every WorkloadNetwork, from the allocations r lists. A network whose
// ranges do not parse is left out: nothing is allocated on it. An
// allocation outside its network's ranges (left from before the ranges
// were changed) is in no range's count.
func CountAddresses(ctx context.Context, r client.Reader) ([]RangeAddresses, error) {
	var networks vspherev1.WorkloadNetworkList
	if err := r.List(ctx, &networks, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var allocs vspherev1.IPAddressAllocationList
	if err := r.List(ctx, &allocs, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	// Distinct addresses per network: the object name is network and
	// address, so each is recorded once, but count defensively.
	held := map[string]map[netip.Addr]bool{}
	for _, al := range allocs.Items {
		addr, err := netip.ParseAddr(al.Spec.Address)
		if err != nil {
			continue
		}
		if held[al.Spec.Network] == nil {
			held[al.Spec.Network] = map[netip.Addr]bool{}
		}
		held[al.Spec.Network][addr] = true
	}
	var out []RangeAddresses
	for _, nw := range networks.Items {
		ranges, err := iprange.ParseAll(nw.Spec.AddressRanges)
		if err != nil {
			continue
		}
		gateway, _ := netip.ParseAddr(nw.Spec.Gateway)
		for i, rg := range ranges {
			a := RangeAddresses{Network: nw.Name, Range: nw.Spec.AddressRanges[i]}
			usable := rg.Size()
			if gateway.IsValid() && rg.Contains(gateway) {
				usable--
			}
			for addr := range held[nw.Name] {
				if rg.Contains(addr) && addr != gateway {
					a.InUse++
				}
			}
			a.Free = max(usable-a.InUse, 0)
			out = append(out, a)
		}
	}
	return out, nil
}
