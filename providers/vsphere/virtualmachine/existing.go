package virtualmachine

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// reconcileExisting fixes reservations, volumes and power state of a VM
// vCenter is done cloning, and reports status.
func (r *Reconciler) reconcileExisting(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) (ctrl.Result, error) {
	if err := r.ensureReservations(ctx, vm, found); err != nil {
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
		return ctrl.Result{}, err
	}
	if err := r.updateStatus(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	setCreatedCondition(vm, false, nil)
	setReadyCondition(vm, false)
	return ctrl.Result{}, volErr
}

// ensurePowerState powers the VM on or off as the spec asks. The watch
// reports the new state and wakes this object again.
func (r *Reconciler) ensurePowerState(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	want := desiredPowerState(vm)
	got := powerState(found.PowerState)
	if got == want {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Changing power state", "from", got, "to", want)
	if err := r.vcenter.SetPowerState(ctx, found, want == vmopv1.VirtualMachinePowerStateOn); err != nil {
		return fmt.Errorf("failed to power %s VM %s: %w", want, found.Ref.Value, err)
	}
	return nil
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
