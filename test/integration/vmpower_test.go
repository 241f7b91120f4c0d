package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/simulator"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// TestRefusedPowerOnIsReported powers a VM off behind the VM service's
// back while vCenter refuses to power it on: its status must say it is off
// (a guest and Cluster API read it), and once vCenter lets it run it is
// powered on again and says so.
func TestRefusedPowerOnIsReported(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	vm := waitReady(h, newVM(t, h, "refused-0", "best-effort-xsmall"))

	service := h.Sim.Model.Service
	service.AddFaultRule(&simulator.FaultInjectionRule{MethodName: "PowerOnVM_Task", ObjectType: "*", ObjectName: vm.Name,
		Probability: 1, FaultType: simulator.FaultTypeInvalidState, Enabled: true, Message: "test: the host is in maintenance"})
	obj, err := find.NewFinder(h.Sim.Client.Client, false).VirtualMachine(ctx, fmt.Sprintf("/%s/vm/Namespaces/%s/%s", vcsim.Datacenter, h.Namespace, vm.Name))
	if err != nil {
		t.Fatal(err)
	}
	task, err := obj.PowerOff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.WaitEx(ctx); err != nil {
		t.Fatal(err)
	}

	got := &vmopv1.VirtualMachine{}
	wait.For(t, 60*time.Second, "the refused power-on to leave the VM reporting poweredOff", func() (bool, error) {
		refused, _ := service.GetFaultStats()["total_injections"].(int64)
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		return refused > 0 && got.Status.PowerState == vmopv1.VirtualMachinePowerStateOff,
			fmt.Errorf("%d power-ons refused, status.powerState %q", refused, got.Status.PowerState)
	})

	service.ClearFaultRules()
	wait.For(t, 90*time.Second, "the VM powered on again once vCenter allows it", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		return got.Status.PowerState == vmopv1.VirtualMachinePowerStateOn, fmt.Errorf("status.powerState %q", got.Status.PowerState)
	})
	if vms := vcVMs(t, h, vm.Name); len(vms) != 1 || vms[0].Runtime.PowerState != "poweredOn" {
		t.Fatalf("in vCenter: %d VMs named %s, want one powered on", len(vms), vm.Name)
	}
}
