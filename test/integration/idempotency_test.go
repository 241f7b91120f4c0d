package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// Two managers reconciling the same objects at once (no leader election)
// must still make exactly one VM per object.
func TestTwoManagersMakeOneVMEach(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	// The first VM deploys the node image into the image cache. vcsim
	// deadlocks when one session reads a VM another is still importing, which
	// a real vCenter does not, so the cache is warmed before the race starts.
	waitReady(h, newVM(t, h, "warm-up", "best-effort-xsmall"))
	h.StartManager(nil)

	var vms []*vmopv1.VirtualMachine
	for i := range 6 {
		vms = append(vms, newVM(t, h, fmt.Sprintf("dup-%d", i), "best-effort-xsmall"))
	}
	ips := map[string]string{}
	for _, vm := range vms {
		got := waitReady(h, vm)
		if n := allVMsWithUUID(t, h, string(got.UID)); n != 1 {
			t.Errorf("%s: want exactly 1 VM in vCenter, got %d", vm.Name, n)
		}
		if n := len(vcVMs(t, h, vm.Name)); n != 1 {
			t.Errorf("%s: want exactly 1 VM named so, got %d", vm.Name, n)
		}
		ip := got.Status.Network.PrimaryIP4
		if other, dup := ips[ip]; dup {
			t.Errorf("%s and %s share address %s", vm.Name, other, ip)
		}
		ips[ip] = vm.Name
		// The loser of the race may allocate after the winner cloned; the
		// running VM's next reconcile frees that address.
		wait.For(t, 30*time.Second, vm.Name+" holding one address allocation", func() (bool, error) {
			allocs := allocations(t, h, string(got.UID))
			return len(allocs) == 1, fmt.Errorf("%d allocations", len(allocs))
		})
	}
}

// A manager stopped while vCenter is still cloning must not clone again when
// the next one starts: it finds the task in status and the VM by UUID.
func TestRestartDuringCloneMakesOneVM(t *testing.T) {
	simulator.TaskDelay.MethodDelay = map[string]int{"CloneVm": 1500}
	t.Cleanup(func() { simulator.TaskDelay.MethodDelay = nil })
	h := harness.New(t, harness.Options{})
	first := h.StartManager(nil)
	ctx := context.Background()

	vm := newVM(t, h, "slow-clone", "best-effort-xsmall")
	wait.For(t, harness.Timeout, "the clone task recorded in status", func() (bool, error) {
		got := &vmopv1.VirtualMachine{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		// Before its clone task, a reconcile records a claim ("claim/…"):
		// the crash must come after vCenter took the clone.
		if ref := got.Status.TaskRef; ref == "" || strings.HasPrefix(ref, "claim/") {
			return false, fmt.Errorf("clone not started: taskRef %q", ref)
		}
		return true, nil
	})
	first.Stop() // crash in the middle of the clone

	h.StartManager(nil)
	got := waitReady(h, vm)
	if n := allVMsWithUUID(t, h, string(got.UID)); n != 1 {
		t.Fatalf("want exactly 1 VM after a restart mid-clone, got %d", n)
	}
	// The VM may be Ready before the watch reports it (it was taken from
	// the finished task); the task is forgotten once the watch holds it.
	wait.For(t, harness.Timeout, "status.taskRef cleared", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		return got.Status.TaskRef == "", fmt.Errorf("taskRef %q", got.Status.TaskRef)
	})
	if n := allVMsWithUUID(t, h, string(got.UID)); n != 1 {
		t.Fatalf("want exactly 1 VM once the task is forgotten, got %d", n)
	}
}

// A restart after the VM exists adopts it: no clone, same address.
func TestRestartKeepsVMAndAddress(t *testing.T) {
	h := harness.New(t, harness.Options{})
	first := h.StartManager(nil)
	before := waitReady(h, newVM(t, h, "survivor", "best-effort-xsmall"))
	first.Stop()

	second := h.StartManager(nil)
	after := waitReady(h, before)
	if n := allVMsWithUUID(t, h, string(after.UID)); n != 1 {
		t.Fatalf("want the same single VM, got %d", n)
	}
	if after.Status.Network.PrimaryIP4 != before.Status.Network.PrimaryIP4 || after.Status.UniqueID != before.Status.UniqueID {
		t.Errorf("restart changed the VM: %s/%s -> %s/%s", before.Status.UniqueID, before.Status.Network.PrimaryIP4,
			after.Status.UniqueID, after.Status.Network.PrimaryIP4)
	}
	// The new manager owns the VM: powering it off through the API works.
	base := after.DeepCopy()
	after.Spec.PowerState = vmopv1.VirtualMachinePowerStateOff
	// A patch, not an update: the new manager may still be writing the
	// VM's status.
	if err := h.Client.Patch(context.Background(), after, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the restarted manager to power the VM off", func() (bool, error) {
		if vms := vcVMs(t, h, after.Name); len(vms) != 1 || vms[0].Runtime.PowerState != "poweredOff" {
			return false, fmt.Errorf("VM not powered off")
		}
		return true, nil
	})
	if n := second.Provider.Sessions.Stats.Calls()["CloneVM_Task"]; n != 0 {
		t.Errorf("a restart must not clone, saw %d CloneVM_Task calls", n)
	}
}
