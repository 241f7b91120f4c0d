package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-supervisor/supervisor/test/harness"
	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
	"github.com/open-supervisor/supervisor/test/wait"
)

// An operator reads on /metrics how many addresses of each workload-network
// range VMs hold and how many are left; the figures follow VMs created and
// deleted, and a restarted supervisor shows the same ones.
func TestWorkloadAddressMetrics(t *testing.T) {
	const span, cidr = "127.24.0.10-127.24.0.11", "127.24.0.20/30" // 2 and 2 addresses
	h := harness.New(t, harness.Options{AddressRanges: []string{span, cidr}})
	first := h.StartManager(nil)

	// want waits until /metrics shows the ranges' in_use and free counts.
	want := func(what string, spanUse, spanFree, cidrUse, cidrFree float64) {
		t.Helper()
		wait.For(t, harness.Timeout, what, func() (bool, error) {
			got := func(rng, state string) float64 {
				return testmetrics.Value(t, "supervisor_workload_ip_addresses", map[string]string{"network": h.Network, "range": rng, "state": state})
			}
			a, b, c, d := got(span, "in_use"), got(span, "free"), got(cidr, "in_use"), got(cidr, "free")
			if a != spanUse || b != spanFree || c != cidrUse || d != cidrFree {
				return false, fmt.Errorf("%s in_use %v free %v, %s in_use %v free %v", span, a, b, cidr, c, d)
			}
			return true, nil
		})
	}
	want("every address free", 0, 2, 0, 2)
	for i := range 3 {
		waitReady(h, newVM(t, h, fmt.Sprintf("addr-%d", i), "best-effort-xsmall"))
	}
	want("three VMs: the first range full, one address of the second", 2, 0, 1, 1)

	first.Stop()
	h.StartManager(nil)
	want("the same after a restart", 2, 0, 1, 1)

	vm := newVM(t, h, "gone", "best-effort-xsmall") // no address left but the CIDR's last
	waitReady(h, vm)
	want("the CIDR full too", 2, 0, 2, 0)
	if err := h.Client.Delete(context.Background(), vm); err != nil {
		t.Fatal(err)
	}
	want("a deleted VM's address free again", 2, 0, 1, 1)
}
