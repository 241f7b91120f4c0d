package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
	"github.com/open-supervisor/supervisor/test/wait"
)

// TestABurstOfVMsIsServedFromTheWatch: VirtualMachines created at once
// end up held by the VM watch, and their reconcilers never ask vCenter
// for a VM by instance UUID (FindAllByUuid, then a read of it): the watch
// already holds what they would ask. Deleting them all at once destroys
// each VM exactly once. The counts are /metrics', as an operator sees them.
func TestABurstOfVMsIsServedFromTheWatch(t *testing.T) {
	const n = 10
	h := harness.New(t, harness.Options{})
	m := h.StartManager(nil)
	ctx := context.Background()
	select {
	case <-m.Provider.VMs.Watcher().Synced():
	case <-time.After(harness.Timeout):
		t.Fatal("the VM watch did not sync")
	}
	calls := func() map[string]float64 {
		return testmetrics.By(t, "supervisor_vcenter_calls_total", nil, "method")
	}
	before := calls()

	vms := make([]*vmopv1.VirtualMachine, n)
	for i := range vms {
		vms[i] = newVM(t, h, fmt.Sprintf("burst-%d", i), "best-effort-xsmall")
	}
	for i, vm := range vms {
		vms[i] = waitReady(h, vm)
	}
	created := calls()
	t.Logf("vCenter calls while creating %d VMs: %v", n, delta(created, before))
	if d := created["FindAllByUuid"] - before["FindAllByUuid"]; d != 0 {
		t.Errorf("reconcilers asked vCenter for %v VMs by instance UUID; the watch holds them", d)
	}
	if d := created["CloneVM_Task"] - before["CloneVM_Task"]; d != n {
		t.Errorf("%v clones for %d VMs", d, n)
	}
	for _, vm := range vms {
		if _, ok := m.Provider.VMs.Watcher().Get(string(vm.UID)); !ok {
			t.Errorf("the watch does not hold VM %s", vm.Name)
		}
	}
	if got := testmetrics.Value(t, "supervisor_vmwatch_vms_managed", nil); got != n {
		t.Errorf("supervisor_vmwatch_vms_managed = %v, want %d", got, n)
	}
	if got := testmetrics.Value(t, "supervisor_vmwatch_vms", nil); got < n {
		t.Errorf("supervisor_vmwatch_vms = %v, want at least the %d VMs managed", got, n)
	}

	if err := h.Client.DeleteAllOf(ctx, &vmopv1.VirtualMachine{}, client.InNamespace(h.Namespace)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the VirtualMachines to be gone", func() (bool, error) {
		var list vmopv1.VirtualMachineList
		if err := h.Client.List(ctx, &list, client.InNamespace(h.Namespace)); err != nil {
			return false, err
		}
		return len(list.Items) == 0, fmt.Errorf("%d VirtualMachines left", len(list.Items))
	})
	deleted := calls()
	t.Logf("vCenter calls while deleting %d VMs: %v", n, delta(deleted, created))
	for _, method := range []string{"Destroy_Task", "PowerOffVM_Task"} {
		if d := deleted[method] - created[method]; d != n {
			t.Errorf("%v %s calls for %d VMs: each is destroyed (and powered off) exactly once", d, method, n)
		}
	}
	if got := testmetrics.Value(t, "supervisor_vmwatch_vms_managed", nil); got != 0 {
		t.Errorf("supervisor_vmwatch_vms_managed = %v after deleting them all", got)
	}
}

// delta is what was counted between two readings, by method.
func delta(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
