package virtualmachine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// A volume is a thin virtual disk of its claim's size on its claim's
// datastore, on the VM's first SCSI controller. Which disk is which volume
// is recorded in the VM's extraConfig, in the same clone or reconfigure
// that adds the disk: key volumeKeyPrefix+<volume name>, value the disk's
// slot as the VMX names it ("scsi0:1"). The record and the disk appear
// together or not at all, so a reconcile that dies after asking vCenter
// never attaches a second disk for the same volume, and the record outlives
// reordering or removing volumes in the spec. The slot is ours to choose
// before vCenter has seen the disk, unlike the disk's UUID or device key.
const volumeKeyPrefix = "opensupervisor.volume."

// maxSCSIUnits is the number of units on a SCSI controller (unit 7 is the
// controller's own).
const maxSCSIUnits = 16

// diskSlot is a disk's place: SCSI bus and unit.
type diskSlot struct{ bus, unit int32 }

func (s diskSlot) String() string { return fmt.Sprintf("scsi%d:%d", s.bus, s.unit) }

func parseSlot(s string) (diskSlot, bool) {
	bus, unit, ok := strings.Cut(strings.TrimPrefix(s, "scsi"), ":")
	b, berr := strconv.ParseInt(bus, 10, 32)
	u, uerr := strconv.ParseInt(unit, 10, 32)
	if !ok || !strings.HasPrefix(s, "scsi") || berr != nil || uerr != nil {
		return diskSlot{}, false
	}
	return diskSlot{bus: int32(b), unit: int32(u)}, true
}

// diskRequest is a disk to add for a volume.
type diskRequest struct {
	volume string
	field  string // spec.volumes[i], for errors
	bytes  int64
	// datastore and its name: a disk's file name "[name]" places it there.
	datastore     types.ManagedObjectReference
	datastoreName string
}

// validateVolumes checks what needs no lookup: every volume is a named,
// distinct claim.
func validateVolumes(volumes []vmopv1.VirtualMachineVolume) error {
	names, claims := map[string]bool{}, map[string]bool{}
	for i, v := range volumes {
		field := fmt.Sprintf("spec.volumes[%d]", i)
		if errs := validation.IsDNS1123Subdomain(v.Name); len(errs) > 0 {
			return badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeInvalidReason, "%s.name: %q %s", field, v.Name, strings.Join(errs, "; "))
		}
		if names[v.Name] {
			return badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeInvalidReason, "%s.name: %q is used by another volume", field, v.Name)
		}
		names[v.Name] = true
		if v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName == "" {
			return badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeInvalidReason, "%s.persistentVolumeClaim.claimName is required", field)
		}
		if claim := v.PersistentVolumeClaim.ClaimName; claims[claim] {
			return badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeInvalidReason,
				"%s.persistentVolumeClaim.claimName: PersistentVolumeClaim %q is used by another volume", field, claim)
		}
		claims[v.PersistentVolumeClaim.ClaimName] = true
	}
	return nil
}

// resolveVolumes resolves every volume of a VM about to be cloned onto
// datastore (the VM's).
func (r *Reconciler) resolveVolumes(ctx context.Context, vm *vmopv1.VirtualMachine, datastore types.ManagedObjectReference) ([]diskRequest, error) {
	if err := validateVolumes(vm.Spec.Volumes); err != nil {
		return nil, err
	}
	reqs := make([]diskRequest, 0, len(vm.Spec.Volumes))
	for i := range vm.Spec.Volumes {
		req, err := r.resolveVolume(ctx, vm, i, func() (types.ManagedObjectReference, error) { return datastore, nil })
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, req)
	}
	return reqs, nil
}

// resolveVolume reads the i-th volume's claim: its storage request is the
// disk's size, its class the disk's datastore (vmDatastore when it has none).
func (r *Reconciler) resolveVolume(ctx context.Context, vm *vmopv1.VirtualMachine, i int,
	vmDatastore func() (types.ManagedObjectReference, error)) (diskRequest, error) {
	v := vm.Spec.Volumes[i]
	req := diskRequest{volume: v.Name, field: fmt.Sprintf("spec.volumes[%d]", i)}
	field := req.field + ".persistentVolumeClaim.claimName"
	name := v.PersistentVolumeClaim.ClaimName
	claim := &corev1.PersistentVolumeClaim{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: name}, claim)
	if apierrors.IsNotFound(err) {
		return req, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeClaimNotFoundReason,
			"%s: PersistentVolumeClaim %q does not exist", field, name)
	}
	if err != nil {
		return req, fmt.Errorf("failed to get PersistentVolumeClaim %s: %w", name, err)
	}
	size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if size.Sign() <= 0 {
		return req, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeNoStorageRequestReason,
			"%s: PersistentVolumeClaim %q has no spec.resources.requests.storage", field, name)
	}
	req.bytes = size.Value()
	if class := ptr.Deref(claim.Spec.StorageClassName, ""); class != "" {
		req.datastore, err = r.classDatastore(ctx, field, class, fmt.Sprintf(" of PersistentVolumeClaim %q", name))
	} else {
		req.datastore, err = vmDatastore()
	}
	if err != nil {
		return req, err
	}
	req.datastoreName, err = r.vcenter.DatastoreName(ctx, req.datastore)
	return req, err
}

// addDisks plans one thin disk per request on the first SCSI controller of
// devices (a new paravirtual one when there is none), in the free units
// from the lowest, and the extraConfig recording each volume's slot.
func addDisks(devices object.VirtualDeviceList, reqs []diskRequest) ([]types.BaseVirtualDeviceConfigSpec, []types.BaseOptionValue, error) {
	var changes []types.BaseVirtualDeviceConfigSpec
	key := devices.NewKey()
	controller := firstSCSIController(devices)
	if controller == nil {
		c, err := devices.CreateSCSIController("pvscsi")
		if err != nil {
			return nil, nil, err
		}
		c.GetVirtualDevice().Key = key
		key--
		changes = append(changes, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: c})
		controller = c.(types.BaseVirtualSCSIController).GetVirtualSCSIController()
	}
	used := map[int32]bool{7: true, controller.ScsiCtlrUnitNumber: true}
	for _, d := range devices {
		if d := d.GetVirtualDevice(); d.ControllerKey == controller.Key && d.UnitNumber != nil {
			used[*d.UnitNumber] = true
		}
	}
	var extra []types.BaseOptionValue
	unit := int32(0)
	for _, req := range reqs {
		for used[unit] {
			unit++
		}
		if unit >= maxSCSIUnits {
			return nil, nil, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineVolumeNoFreeUnitReason,
				"%s: the VM's SCSI controller %d has no free unit left for volume %q", req.field, controller.BusNumber, req.volume)
		}
		used[unit] = true
		mib := (req.bytes + 1<<20 - 1) >> 20 // vSphere sizes disks in whole MiB
		ds := req.datastore
		disk := &types.VirtualDisk{
			VirtualDevice: types.VirtualDevice{
				Key:           key,
				ControllerKey: controller.Key,
				UnitNumber:    ptr.To(unit),
				Backing: &types.VirtualDiskFlatVer2BackingInfo{
					DiskMode:        string(types.VirtualDiskModePersistent),
					ThinProvisioned: ptr.To(true),
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{
						FileName:  (&object.DatastorePath{Datastore: req.datastoreName}).String(),
						Datastore: &ds,
					},
				},
			},
			CapacityInKB:    mib << 10,
			CapacityInBytes: mib << 20,
		}
		key--
		changes = append(changes, &types.VirtualDeviceConfigSpec{
			Operation:     types.VirtualDeviceConfigSpecOperationAdd,
			FileOperation: types.VirtualDeviceConfigSpecFileOperationCreate,
			Device:        disk,
		})
		slot := diskSlot{bus: controller.BusNumber, unit: unit}
		extra = append(extra, &types.OptionValue{Key: volumeKeyPrefix + req.volume, Value: slot.String()})
	}
	return changes, extra, nil
}

func firstSCSIController(devices object.VirtualDeviceList) *types.VirtualSCSIController {
	var first *types.VirtualSCSIController
	for _, d := range devices.SelectByType((*types.VirtualSCSIController)(nil)) {
		c := d.(types.BaseVirtualSCSIController).GetVirtualSCSIController()
		if first == nil || c.BusNumber < first.BusNumber {
			first = c
		}
	}
	return first
}

// volumeSlots reads the recorded slot of each volume from extraConfig.
func volumeSlots(extra []types.BaseOptionValue) map[string]diskSlot {
	slots := map[string]diskSlot{}
	for _, o := range extra {
		ov := o.GetOptionValue()
		name, ok := strings.CutPrefix(ov.Key, volumeKeyPrefix)
		if !ok {
			continue
		}
		if s, ok := ov.Value.(string); ok {
			if slot, ok := parseSlot(s); ok {
				slots[name] = slot
			}
		}
	}
	return slots
}

// diskAt returns the disk in a slot, if any.
func diskAt(devices object.VirtualDeviceList, slot diskSlot) *types.VirtualDisk {
	for _, c := range devices.SelectByType((*types.VirtualSCSIController)(nil)) {
		ctrl := c.(types.BaseVirtualSCSIController).GetVirtualSCSIController()
		if ctrl.BusNumber != slot.bus {
			continue
		}
		for _, d := range devices.SelectByType((*types.VirtualDisk)(nil)) {
			disk := d.(*types.VirtualDisk)
			if disk.ControllerKey == ctrl.Key && disk.UnitNumber != nil && *disk.UnitNumber == slot.unit {
				return disk
			}
		}
	}
	return nil
}

func diskUUID(disk *types.VirtualDisk) string {
	if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
		return b.Uuid
	}
	return ""
}

// volumeStatuses reports each spec volume: attached, with its disk's UUID,
// when the disk recorded for it is on the VM; else why not (errs by volume).
func volumeStatuses(volumes []vmopv1.VirtualMachineVolume, devices object.VirtualDeviceList, slots map[string]diskSlot,
	errs map[string]string) []vmopv1.VirtualMachineVolumeStatus {
	out := make([]vmopv1.VirtualMachineVolumeStatus, 0, len(volumes))
	for _, v := range volumes {
		st := vmopv1.VirtualMachineVolumeStatus{Name: v.Name}
		slot, recorded := slots[v.Name]
		switch {
		case errs[v.Name] != "":
			st.Error = errs[v.Name]
		case !recorded:
			st.Error = "no disk attached yet"
		default:
			if disk := diskAt(devices, slot); disk != nil {
				st.Attached, st.DiskUUID = true, diskUUID(disk)
			} else {
				st.Error = fmt.Sprintf("the volume's disk at %s is no longer on the VM", slot)
			}
		}
		out = append(out, st)
	}
	return out
}

// settledVolumes returns status.volumes in spec order if every spec volume
// is reported attached with a disk the VM still has: nothing to ask vCenter.
func settledVolumes(vm *vmopv1.VirtualMachine, devices object.VirtualDeviceList) ([]vmopv1.VirtualMachineVolumeStatus, bool) {
	onVM := map[string]bool{}
	for _, d := range devices.SelectByType((*types.VirtualDisk)(nil)) {
		if uuid := diskUUID(d.(*types.VirtualDisk)); uuid != "" {
			onVM[uuid] = true
		}
	}
	byName := map[string]vmopv1.VirtualMachineVolumeStatus{}
	for _, st := range vm.Status.Volumes {
		byName[st.Name] = st
	}
	out := make([]vmopv1.VirtualMachineVolumeStatus, 0, len(vm.Spec.Volumes))
	for _, v := range vm.Spec.Volumes {
		st, ok := byName[v.Name]
		if !ok || !st.Attached || !onVM[st.DiskUUID] {
			return nil, false
		}
		out = append(out, st)
	}
	return out, true
}
