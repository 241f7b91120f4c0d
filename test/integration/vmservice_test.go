package integration

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

func TestCreateAndDeleteVM(t *testing.T) {
	h := harness.New(t, harness.Options{})
	m := h.StartManager(nil)
	ctx := context.Background()

	created := newVM(t, h, "node-0", "guaranteed-small")
	if !slices.Contains(created.Finalizers, vmopv1.VirtualMachineFinalizer) {
		t.Errorf("the create's answer has no finalizer %s: %v", vmopv1.VirtualMachineFinalizer, created.Finalizers)
	}
	vm := waitReady(h, created)

	vms := vcVMs(t, h, "node-0")
	if len(vms) != 1 {
		t.Fatalf("want exactly one VM in vCenter, got %d", len(vms))
	}
	got := vms[0]
	if got.Config.Hardware.NumCPU != 2 || got.Config.Hardware.MemoryMB != 4096 {
		t.Errorf("want 2 vCPU / 4096 MiB (guaranteed-small), got %d / %d", got.Config.Hardware.NumCPU, got.Config.Hardware.MemoryMB)
	}
	mhz, err := m.Provider.Inventory.MinHostCPUMhz(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Config.CpuAllocation.Reservation; r == nil || *r != 2*mhz {
		t.Errorf("want a full CPU reservation of %d MHz, got %v", 2*mhz, r)
	}
	if r := got.Config.MemoryAllocation.Reservation; r == nil || *r != 4096 {
		t.Errorf("want a full memory reservation of 4096 MiB, got %v", r)
	}
	if got.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("want the VM powered on, got %s", got.Runtime.PowerState)
	}
	if got.Config.InstanceUuid != string(vm.UID) {
		t.Errorf("want instance UUID = object UID %s, got %s", vm.UID, got.Config.InstanceUuid)
	}

	// NIC on the workload portgroup.
	pg, err := m.Provider.Inventory.Network(ctx, vcsim.WorkloadPortGroup)
	if err != nil {
		t.Fatal(err)
	}
	onWorkload := false
	for _, n := range got.Network {
		onWorkload = onWorkload || n == pg.Reference()
	}
	if !onWorkload {
		t.Errorf("want the VM on portgroup %s (%s), got networks %v", vcsim.WorkloadPortGroup, pg.Reference(), got.Network)
	}

	// cloud-init data in guestinfo.
	if ud := decode(t, extraConfig(got, "guestinfo.userdata")); ud != cloudConfig {
		t.Errorf("guestinfo.userdata = %q, want the bootstrap Secret's data", ud)
	}
	if enc := extraConfig(got, "guestinfo.userdata.encoding"); enc != "base64" {
		t.Errorf("guestinfo.userdata.encoding = %q", enc)
	}
	md := decode(t, extraConfig(got, "guestinfo.metadata"))
	ip := vm.Status.Network.PrimaryIP4
	if !strings.Contains(md, ip+"/16") || !strings.Contains(md, "instance-id: "+string(vm.UID)) {
		t.Errorf("guestinfo.metadata does not configure %s/16 for instance %s:\n%s", ip, vm.UID, md)
	}

	// Status mirrors vCenter.
	if ip == "" || ip != got.Guest.IpAddress {
		t.Errorf("status.network.primaryIP4 = %q, vCenter reports %q", ip, got.Guest.IpAddress)
	}
	if !strings.HasPrefix(ip, "127.21.") {
		t.Errorf("IP %s is not from the workload range", ip)
	}
	if vm.Status.BiosUUID != got.Config.Uuid || vm.Status.InstanceUUID != got.Config.InstanceUuid || vm.Status.UniqueID != got.Self.Value {
		t.Errorf("status UUIDs %q/%q/%q do not match vCenter %q/%q/%q", vm.Status.BiosUUID, vm.Status.InstanceUUID, vm.Status.UniqueID,
			got.Config.Uuid, got.Config.InstanceUuid, got.Self.Value)
	}
	if vm.Status.PowerState != vmopv1.VirtualMachinePowerStateOn || vm.Status.Host == "" {
		t.Errorf("status.powerState = %q, status.host = %q", vm.Status.PowerState, vm.Status.Host)
	}
	if allocs := allocations(t, h, string(vm.UID)); len(allocs) != 1 || allocs[0].Spec.Address != ip {
		t.Errorf("want one allocation recording %s, got %+v", ip, allocs)
	}

	// Delete: VM gone, address free.
	if err := h.Client.Delete(ctx, vm); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "VirtualMachine deleted", func() (bool, error) {
		err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), &vmopv1.VirtualMachine{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, errString("VirtualMachine still exists")
	})
	if n := allVMsWithUUID(t, h, string(vm.UID)); n != 0 {
		t.Errorf("want the VM destroyed in vCenter, %d remain", n)
	}
	if allocs := allocations(t, h, string(vm.UID)); len(allocs) != 0 {
		t.Errorf("want the address released, got %+v", allocs)
	}

	// The freed address is handed out again.
	again := waitReady(h, newVM(t, h, "node-1", "best-effort-xsmall"))
	if again.Status.Network.PrimaryIP4 != ip {
		t.Errorf("want the freed address %s reused, got %s", ip, again.Status.Network.PrimaryIP4)
	}
	if r := vcVMs(t, h, "node-1")[0].Config.CpuAllocation.Reservation; r != nil && *r != 0 {
		t.Errorf("best-effort class must reserve nothing, got %d MHz", *r)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
