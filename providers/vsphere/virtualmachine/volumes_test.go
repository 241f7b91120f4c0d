package virtualmachine

import (
	"errors"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/utils/ptr"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

func TestSlots(t *testing.T) {
	for _, s := range []string{"scsi0:1", "scsi3:15"} {
		if slot, ok := parseSlot(s); !ok || slot.String() != s {
			t.Errorf("parseSlot(%q) = %v, %v", s, slot, ok)
		}
	}
	for _, s := range []string{"", "scsi0", "ide0:1", "scsi:1", "scsi0:x", "0:1"} {
		if slot, ok := parseSlot(s); ok {
			t.Errorf("parseSlot(%q) = %v, want no slot", s, slot)
		}
	}
	slots := volumeSlots([]types.BaseOptionValue{
		&types.OptionValue{Key: "guestinfo.metadata", Value: "scsi0:1"},
		&types.OptionValue{Key: volumeKeyPrefix + "data", Value: "scsi0:1"},
		&types.OptionValue{Key: volumeKeyPrefix + "junk", Value: "sd0"},
	})
	if len(slots) != 1 || slots["data"] != (diskSlot{0, 1}) {
		t.Errorf("volumeSlots = %v, want data at scsi0:1 only", slots)
	}
}

func TestValidateVolumes(t *testing.T) {
	vol := func(name, claim string) vmopv1.VirtualMachineVolume {
		src := &vmopv1.PersistentVolumeClaimVolumeSource{}
		src.ClaimName = claim
		return vmopv1.VirtualMachineVolume{Name: name, PersistentVolumeClaim: src}
	}
	cases := []struct {
		name    string
		volumes []vmopv1.VirtualMachineVolume
		field   string // "" for valid
	}{
		{"none", nil, ""},
		{"two", []vmopv1.VirtualMachineVolume{vol("data", "a"), vol("logs", "b")}, ""},
		{"bad name", []vmopv1.VirtualMachineVolume{vol("Data_1", "a")}, "spec.volumes[0].name"},
		{"same name", []vmopv1.VirtualMachineVolume{vol("data", "a"), vol("data", "b")}, "spec.volumes[1].name"},
		{"no claim", []vmopv1.VirtualMachineVolume{vol("data", "a"), {Name: "logs"}}, "spec.volumes[1].persistentVolumeClaim.claimName"},
		{"empty claim", []vmopv1.VirtualMachineVolume{vol("data", "")}, "spec.volumes[0].persistentVolumeClaim.claimName"},
		{"same claim", []vmopv1.VirtualMachineVolume{vol("data", "a"), vol("logs", "a")}, "spec.volumes[1].persistentVolumeClaim.claimName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateVolumes(tc.volumes)
			var bad *inputError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tc.field != "" && (!errors.As(err, &bad) || !strings.HasPrefix(bad.message, tc.field)):
				t.Errorf("want bad input naming %s, got %v", tc.field, err)
			}
		})
	}
}

func disk(key, controller, unit int32, uuid string) *types.VirtualDisk {
	return &types.VirtualDisk{VirtualDevice: types.VirtualDevice{
		Key: key, ControllerKey: controller, UnitNumber: ptr.To(unit),
		Backing: &types.VirtualDiskFlatVer2BackingInfo{Uuid: uuid},
	}}
}

func scsi(key, bus int32) *types.ParaVirtualSCSIController {
	c := &types.ParaVirtualSCSIController{}
	c.Key, c.BusNumber, c.ScsiCtlrUnitNumber = key, bus, 7
	return c
}

func TestAddDisks(t *testing.T) {
	ds := types.ManagedObjectReference{Type: "Datastore", Value: "datastore-2"}
	reqs := func(n int) []diskRequest {
		var out []diskRequest
		for i := range n {
			out = append(out, diskRequest{volume: string(rune('a' + i)), field: "spec.volumes", bytes: 1<<30 + 1, datastore: ds, datastoreName: "fast"})
		}
		return out
	}
	nic := &types.VirtualVmxnet3{}
	nic.Key, nic.ControllerKey, nic.UnitNumber = 4000, 100, ptr.To[int32](7)

	t.Run("on the image's controller, skipping used units and 7", func(t *testing.T) {
		devices := object.VirtualDeviceList{nic, scsi(1000, 0), scsi(1001, 1), disk(2000, 1000, 0, "boot"), disk(2001, 1000, 2, "other")}
		before := len(devices)
		changes, extra, err := addDisks(devices, reqs(7))
		if err != nil {
			t.Fatal(err)
		}
		if len(devices) != before {
			t.Error("addDisks changed the device list")
		}
		wantUnits := []int32{1, 3, 4, 5, 6, 8, 9}
		if len(changes) != 7 || len(extra) != 7 {
			t.Fatalf("want 7 disks and 7 records, got %d and %d", len(changes), len(extra))
		}
		keys := map[int32]bool{}
		for i, c := range changes {
			spec := c.GetVirtualDeviceConfigSpec()
			d := spec.Device.(*types.VirtualDisk)
			b := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if spec.Operation != types.VirtualDeviceConfigSpecOperationAdd || spec.FileOperation != types.VirtualDeviceConfigSpecFileOperationCreate ||
				d.ControllerKey != 1000 || *d.UnitNumber != wantUnits[i] || d.Key >= 0 || keys[d.Key] {
				t.Errorf("disk %d: %+v on %d:%d, key %d", i, spec, d.ControllerKey, *d.UnitNumber, d.Key)
			}
			keys[d.Key] = true
			if d.CapacityInBytes != 1025<<20 || d.CapacityInKB != 1025<<10 || b.FileName != "[fast]" || *b.Datastore != ds || !*b.ThinProvisioned {
				t.Errorf("disk %d: %d bytes / %d KB, file %q on %v, thin %v", i, d.CapacityInBytes, d.CapacityInKB, b.FileName, b.Datastore, *b.ThinProvisioned)
			}
			ov := extra[i].GetOptionValue()
			if ov.Key != volumeKeyPrefix+reqs(7)[i].volume || ov.Value != (diskSlot{0, wantUnits[i]}).String() {
				t.Errorf("record %d: %s=%v", i, ov.Key, ov.Value)
			}
		}
	})

	t.Run("a new paravirtual controller when there is none", func(t *testing.T) {
		changes, extra, err := addDisks(object.VirtualDeviceList{nic}, reqs(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 2 {
			t.Fatalf("want a controller and a disk, got %d changes", len(changes))
		}
		c, ok := changes[0].GetVirtualDeviceConfigSpec().Device.(*types.ParaVirtualSCSIController)
		d := changes[1].GetVirtualDeviceConfigSpec().Device.(*types.VirtualDisk)
		if !ok || c.Key >= 0 || c.BusNumber != 0 || d.ControllerKey != c.Key || *d.UnitNumber != 0 || d.Key == c.Key {
			t.Errorf("controller %+v, disk on %d:%d", changes[0].GetVirtualDeviceConfigSpec().Device, d.ControllerKey, *d.UnitNumber)
		}
		if v := extra[0].GetOptionValue().Value; v != "scsi0:0" {
			t.Errorf("record %v", v)
		}
	})

	t.Run("a full controller is bad input", func(t *testing.T) {
		devices := object.VirtualDeviceList{scsi(1000, 0)}
		for u := int32(0); u < maxSCSIUnits; u++ {
			if u != 7 {
				devices = append(devices, disk(2000+u, 1000, u, ""))
			}
		}
		var bad *inputError
		if _, _, err := addDisks(devices, reqs(1)); !errors.As(err, &bad) {
			t.Errorf("want bad input, got %v", err)
		}
	})
}

func TestVolumeStatuses(t *testing.T) {
	volumes := []vmopv1.VirtualMachineVolume{{Name: "data"}, {Name: "logs"}, {Name: "gone"}, {Name: "new"}, {Name: "bad"}}
	devices := object.VirtualDeviceList{scsi(1000, 0), scsi(1001, 1), disk(2000, 1000, 1, "u-data"), disk(2001, 1001, 1, "u-logs")}
	slots := map[string]diskSlot{"data": {0, 1}, "logs": {1, 1}, "gone": {0, 2}}
	got := volumeStatuses(volumes, devices, slots, map[string]string{"bad": "no claim"})
	want := []vmopv1.VirtualMachineVolumeStatus{
		{Name: "data", Attached: true, DiskUUID: "u-data"},
		{Name: "logs", Attached: true, DiskUUID: "u-logs"},
		{Name: "gone", Error: "the volume's disk at scsi0:2 is no longer on the VM"},
		{Name: "new", Error: "no disk attached yet"},
		{Name: "bad", Error: "no claim"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("volume %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSettledVolumes(t *testing.T) {
	devices := object.VirtualDeviceList{scsi(1000, 0), disk(2000, 1000, 1, "u-data"), disk(2001, 1000, 2, "u-logs")}
	vm := &vmopv1.VirtualMachine{}
	vm.Spec.Volumes = []vmopv1.VirtualMachineVolume{{Name: "logs"}, {Name: "data"}}
	vm.Status.Volumes = []vmopv1.VirtualMachineVolumeStatus{
		{Name: "data", Attached: true, DiskUUID: "u-data"}, {Name: "logs", Attached: true, DiskUUID: "u-logs"}, {Name: "removed", Attached: true, DiskUUID: "u-x"},
	}
	got, ok := settledVolumes(vm, devices)
	if !ok || len(got) != 2 || got[0].Name != "logs" || got[1].Name != "data" {
		t.Errorf("want the spec's volumes in spec order, got %+v, %v", got, ok)
	}
	if _, ok := settledVolumes(vm, devices[:2]); ok {
		t.Error("a disk the VM no longer has is not settled")
	}
	vm.Spec.Volumes = append(vm.Spec.Volumes, vmopv1.VirtualMachineVolume{Name: "new"})
	if _, ok := settledVolumes(vm, devices); ok {
		t.Error("a volume without status is not settled")
	}
}
