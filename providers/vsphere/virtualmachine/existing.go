package virtualmachine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// reconcileExisting fixes reservations, vApp properties, the boot disk,
// volumes and power state of a VM vCenter is done cloning, restarts it when
// asked, and reports status and readiness.
func (r *Reconciler) reconcileExisting(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) (ctrl.Result, error) {
	if err := r.ensureReservations(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	// vApp properties and the boot disk before power-on: the guest reads
	// them on its first boot.
	if err := r.ensureVAppProperties(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.ensureBootDisk(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.ensureHardwareVersion(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	// Disks first, so that a VM about to power on boots with them. Bad
	// input for a volume is reported after the rest is done.
	volErr := r.reconcileVolumes(ctx, vm, found)
	var bad *inputError
	if volErr != nil && !errors.As(volErr, &bad) {
		return ctrl.Result{}, volErr
	}
	if err := r.ensurePowerState(ctx, vm, found); err != nil {
		// The status still says what vCenter shows: a VM powered off behind
		// the VM service's back whose power-on vCenter refuses is off, and
		// its users (a guest, Cluster API) must see it so.
		if serr := r.updateStatus(ctx, vm, found); serr != nil {
			return ctrl.Result{}, errors.Join(err, serr)
		}
		return ctrl.Result{}, err
	}
	if err := r.ensureRestart(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.updateStatus(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	r.releaseRaceAllocations(ctx, vm)
	setCreatedCondition(vm, false, nil)
	setReadyCondition(vm, false)
	res, err := r.probeReadiness(ctx, vm, found)
	if err != nil {
		return ctrl.Result{}, err
	}
	return res, volErr
}

// ensurePowerState powers the VM on, off or suspends it as the spec asks,
// the way powerOffMode and suspendMode say. The watch reports the new
// state and wakes this object again.
func (r *Reconciler) ensurePowerState(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	want := desiredPowerState(vm)
	got := powerState(found.PowerState)
	if got == want {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Changing power state", "from", got, "to", want)
	var err error
	switch {
	case want == vmopv1.VirtualMachinePowerStateOn:
		err = r.vcenter.SetPowerState(ctx, found, true)
	case want == vmopv1.VirtualMachinePowerStateOff:
		err = r.powerOp(ctx, found, vm.Spec.PowerOffMode, PowerOffHard, ShutdownGuest)
	case want == vmopv1.VirtualMachinePowerStateSuspended && got == vmopv1.VirtualMachinePowerStateOn:
		err = r.powerOp(ctx, found, vm.Spec.SuspendMode, SuspendHard, StandbyGuest)
	default:
		return nil // a powered-off VM cannot be suspended; vCenter would refuse
	}
	if err != nil {
		return fmt.Errorf("failed to make VM %s %s: %w", found.Ref.Value, want, err)
	}
	return nil
}

// powerOp carries out a power operation in a mode: Hard (the default),
// Soft (through VMware Tools) or TrySoft (through VMware Tools, hard if
// the guest cannot do it).
func (r *Reconciler) powerOp(ctx context.Context, found vmwatch.VM, mode string, hard, soft PowerOp) error {
	switch vmopv1.VirtualMachinePowerOpMode(mode) {
	case vmopv1.VirtualMachinePowerOpModeSoft:
		return r.vcenter.PowerOp(ctx, found, soft)
	case vmopv1.VirtualMachinePowerOpModeTrySoft:
		if err := r.vcenter.PowerOp(ctx, found, soft); err != nil {
			ctrl.LoggerFrom(ctx).Info("The guest could not do it; doing it hard", "operation", soft, "reason", err.Error())
			return r.vcenter.PowerOp(ctx, found, hard)
		}
		return nil
	}
	return r.vcenter.PowerOp(ctx, found, hard)
}

// ensureRestart restarts a powered-on VM, the way restartMode says, once
// for each spec.nextRestartTime later than status.lastRestartTime.
func (r *Reconciler) ensureRestart(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	if vm.Spec.NextRestartTime == "" {
		return nil
	}
	at, err := time.Parse(time.RFC3339Nano, vm.Spec.NextRestartTime)
	if err != nil {
		return badInput(vmopv1.VirtualMachineConditionReady, vmopv1.VirtualMachineRestartTimeInvalidReason,
			"spec.nextRestartTime: %q is neither \"now\" nor an RFC3339 time", vm.Spec.NextRestartTime)
	}
	if last := vm.Status.LastRestartTime; last != nil && !at.After(last.Time) {
		return nil
	}
	if powerState(found.PowerState) == vmopv1.VirtualMachinePowerStateOn {
		ctrl.LoggerFrom(ctx).Info("Restarting VM", "nextRestartTime", vm.Spec.NextRestartTime, "mode", vm.Spec.RestartMode)
		if err := r.powerOp(ctx, found, vm.Spec.RestartMode, ResetHard, RebootGuest); err != nil {
			return fmt.Errorf("failed to restart VM %s: %w", found.Ref.Value, err)
		}
		r.Recorder.Eventf(vm, nil, corev1.EventTypeNormal, vmopv1.VirtualMachineRestartedReason, "Restart", "Restarted the VM as spec.nextRestartTime %s asked", vm.Spec.NextRestartTime)
	}
	// A VM that is not running has nothing to restart; the request is done.
	vm.Status.LastRestartTime = &metav1.Time{Time: at}
	return nil
}

// ensureVAppProperties sets the vApp properties bootstrap.vAppConfig asks
// for (the Ubuntu OVA's user-data and hostname, say) on the VM.
func (r *Reconciler) ensureVAppProperties(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	props, err := r.resolveVAppProperties(ctx, vm)
	if err != nil || props == nil {
		return err
	}
	guest, err := r.vcenter.ReadGuest(ctx, found.Ref)
	if err != nil {
		return err
	}
	change := vAppPropertyChanges(guest.VAppProperties, props)
	if change == nil {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Setting vApp properties", "count", len(change.Property))
	if err := r.vcenter.Reconfigure(ctx, found, types.VirtualMachineConfigSpec{VAppConfig: change}); err != nil {
		return fmt.Errorf("failed to set the vApp properties of VM %s: %w", found.Ref.Value, err)
	}
	return nil
}

// ensureBootDisk grows the boot disk (the VM's first disk) to
// advanced.bootDiskCapacity; a disk is never shrunk.
func (r *Reconciler) ensureBootDisk(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	if vm.Spec.Advanced == nil || vm.Spec.Advanced.BootDiskCapacity == nil {
		return nil
	}
	want := vm.Spec.Advanced.BootDiskCapacity.Value()
	disk := bootDisk(found.Devices)
	if disk == nil {
		return badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineStorageNoBootDiskReason,
			"spec.advanced.bootDiskCapacity: the VM cloned from image %q has no disk to grow", vm.Spec.ImageName)
	}
	if diskBytes(disk) >= want {
		return nil
	}
	grown := *disk
	grown.CapacityInBytes = want
	grown.CapacityInKB = want / 1024
	ctrl.LoggerFrom(ctx).Info("Growing the boot disk", "from", diskBytes(disk), "to", want)
	err := r.vcenter.Reconfigure(ctx, found, types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
		&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: &grown},
	}})
	if err != nil {
		return fmt.Errorf("failed to grow the boot disk of VM %s: %w", found.Ref.Value, err)
	}
	return nil
}

// ensureHardwareVersion upgrades a powered-off VM whose virtual hardware is
// older than spec.minHardwareVersion (a VM asking for one is cloned powered
// off for this). A running VM is left as it is, as vm-operator leaves it.
func (r *Reconciler) ensureHardwareVersion(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	want := vm.Spec.MinHardwareVersion
	if want <= 0 || powerState(found.PowerState) != vmopv1.VirtualMachinePowerStateOff {
		return nil
	}
	guest, err := r.vcenter.ReadGuest(ctx, found.Ref)
	if err != nil {
		return err
	}
	have, err := types.ParseHardwareVersion(guest.HardwareVersion)
	if err == nil && int32(have) >= want {
		return nil
	}
	version := fmt.Sprintf("vmx-%d", want)
	ctrl.LoggerFrom(ctx).Info("Upgrading virtual hardware", "from", guest.HardwareVersion, "to", version)
	if err := r.vcenter.UpgradeHardware(ctx, found, version); err != nil {
		if fault.Is(err, &types.NotSupported{}) {
			return badInput(vmopv1.VirtualMachineConditionCreated, vmopv1.VirtualMachineHardwareVersionNotSupportedReason,
				"spec.minHardwareVersion: the hosts do not support virtual hardware %s", version)
		}
		return fmt.Errorf("failed to upgrade VM %s to %s: %w", found.Ref.Value, version, err)
	}
	return nil
}

// bootDisk is the VM's first disk by device key: the image's.
func bootDisk(devices []types.BaseVirtualDevice) *types.VirtualDisk {
	var first *types.VirtualDisk
	for _, d := range devices {
		if disk, ok := d.(*types.VirtualDisk); ok && (first == nil || disk.Key < first.Key) {
			first = disk
		}
	}
	return first
}

func diskBytes(d *types.VirtualDisk) int64 {
	if d.CapacityInBytes > 0 {
		return d.CapacityInBytes
	}
	return d.CapacityInKB * 1024
}

// ensureReservations reapplies the class's reservations if vCenter did not
// take them at clone time.
func (r *Reconciler) ensureReservations(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	if vm.Status.Class == nil {
		return nil // adopted VM: leave its reservations as they are
	}
	class, err := r.resolveClass(ctx, vm)
	if err != nil {
		return nil //nolint:nilerr // the class may be gone; the VM keeps what it has
	}
	cpu, mem, err := r.reservations(ctx, class)
	if err != nil {
		return err
	}
	if found.CPUReservation == cpu && found.MemReservation == mem {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Setting reservations", "cpuMhz", cpu, "memoryMiB", mem)
	err = r.vcenter.Reconfigure(ctx, found, types.VirtualMachineConfigSpec{
		CpuAllocation:    &types.ResourceAllocationInfo{Reservation: ptr.To(cpu), Limit: ptr.To[int64](-1), Shares: &types.SharesInfo{Level: types.SharesLevelNormal}},
		MemoryAllocation: &types.ResourceAllocationInfo{Reservation: ptr.To(mem), Limit: ptr.To[int64](-1), Shares: &types.SharesInfo{Level: types.SharesLevelNormal}},
	})
	if err != nil {
		return fmt.Errorf("failed to set reservations on VM %s: %w", found.Ref.Value, err)
	}
	return nil
}

// releaseRaceAllocations frees an address a reconcile that lost the race
// to clone allocated for this VM after the winner released the others. Only
// a VM with one interface drawing from a range, whose address is known, is
// looked at; not fatal: the VM's deletion frees every address anyway.
func (r *Reconciler) releaseRaceAllocations(ctx context.Context, vm *vmopv1.VirtualMachine) {
	fromRange := 0
	for _, spec := range interfaces(vm) {
		if len(spec.Addresses) == 0 && !spec.DHCP4 {
			fromRange++
		}
	}
	if fromRange != 1 || networkDisabled(vm) || vm.Status.Network == nil {
		return
	}
	addr, err := netip.ParseAddr(vm.Status.Network.PrimaryIP4)
	if err != nil {
		return
	}
	if err := r.IPAM.KeepOnly(ctx, string(vm.UID), addr); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Could not release the addresses a racing reconcile allocated")
	}
}
