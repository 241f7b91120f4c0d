package virtualmachine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// reconcileVolumes attaches a disk for each spec volume that has none and
// reports status.volumes. A VM whose status already shows every volume on
// a disk it has (per the watch) costs no call; otherwise one read of the
// VM's devices and extraConfig tells which volumes have disks, and one
// reconfigure adds the rest. Disks of volumes removed from the spec stay.
// Bad input for one volume is returned after the others are attached.
func (r *Reconciler) reconcileVolumes(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	if len(vm.Spec.Volumes) == 0 {
		vm.Status.Volumes = nil
		return nil
	}
	if err := validateVolumes(vm.Spec.Volumes); err != nil {
		return err
	}
	if st, ok := settledVolumes(vm, found.Devices); ok {
		vm.Status.Volumes = st
		setConditionReady(vm, vmopv1.VirtualMachineConditionStorageReady)
		return nil
	}
	devices, slots, err := r.readDisks(ctx, found.Ref)
	if err != nil {
		return err
	}

	var reqs []diskRequest
	errs := map[string]string{}
	var bad error
	vmDatastore := func() (types.ManagedObjectReference, error) { return r.resolveDatastore(ctx, vm) }
	for i, v := range vm.Spec.Volumes {
		if _, ok := slots[v.Name]; ok {
			continue
		}
		req, err := r.resolveVolume(ctx, vm, i, vmDatastore)
		var in *inputError
		if errors.As(err, &in) {
			errs[v.Name] = in.message
			bad = cmp.Or(bad, err)
			continue
		}
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
	}
	if len(reqs) > 0 {
		if err := r.attach(ctx, vm, found, devices, reqs); err != nil {
			return err
		}
		if devices, slots, err = r.readDisks(ctx, found.Ref); err != nil {
			return err
		}
	}
	vm.Status.Volumes = volumeStatuses(vm.Spec.Volumes, devices, slots, errs)
	if bad == nil {
		setConditionReady(vm, vmopv1.VirtualMachineConditionStorageReady)
	}
	return bad
}

// attach adds the disks of reqs, and their record, in one reconfigure.
func (r *Reconciler) attach(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM, devices object.VirtualDeviceList, reqs []diskRequest) error {
	changes, extra, err := addDisks(devices, reqs)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(reqs))
	for _, req := range reqs {
		names = append(names, req.volume)
	}
	ctrl.LoggerFrom(ctx).Info("Attaching disks", "volumes", names)
	if err := r.vcenter.Reconfigure(ctx, found, types.VirtualMachineConfigSpec{DeviceChange: changes, ExtraConfig: extra}); err != nil {
		r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, eventReasonAttachFailed, "Attach", "vCenter failed to attach disks for volumes %s: %v", strings.Join(names, ", "), err)
		return fmt.Errorf("failed to attach disks for volumes %s to VM %s: %w", strings.Join(names, ", "), found.Ref.Value, err)
	}
	r.Recorder.Eventf(vm, nil, corev1.EventTypeNormal, eventReasonAttached, "Attach", "Attached disks for volumes %s", strings.Join(names, ", "))
	return nil
}

// readDisks reads a VM's devices and its volumes' recorded slots from vCenter.
func (r *Reconciler) readDisks(ctx context.Context, ref types.ManagedObjectReference) (object.VirtualDeviceList, map[string]diskSlot, error) {
	devices, extra, err := r.vcenter.ReadDisks(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	return devices, volumeSlots(extra), nil
}
