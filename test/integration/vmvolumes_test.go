package integration

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/conditions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// A VM's volumes are disks of their claims' sizes on their claims' storage
// classes' datastores (the VM's own when a claim names none), listed in
// status with their disk UUIDs; a volume added later is hot-added; and the
// disks go with the VM.
func TestVMVolumes(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	m := h.StartManager(nil)
	// A first VM makes the supervisor list the datastores; a second datastore
	// added afterwards, with a class on it, must still be found.
	first := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "first"},
		Spec:       vmopv1.VirtualMachineSpec{ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass},
	}
	if err := h.Client.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	waitReady(h, first)
	fastDS, fastDir := addDatastore(t, h, "fast-ds")
	fast := storageClass(t, h, h.StorageClass+"-fast", fastDir)
	vmDS, err := find.NewFinder(h.Sim.Client.Client).Datastore(ctx, "/"+vcsim.Datacenter+"/datastore/LocalDS_0")
	if err != nil {
		t.Fatal(err)
	}

	createClaim(t, h, "db-data", "1Gi", fast)
	createClaim(t, h, "db-logs", "512Mi", "")
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "db"},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
			Volumes: []vmopv1.VirtualMachineVolume{claimVolume("data", "db-data"), claimVolume("logs", "db-logs")},
		},
	}
	if err := h.Client.Create(ctx, vm); err != nil {
		t.Fatal(err)
	}
	vm = waitReady(h, vm)

	got := vcVMs(t, h, "db")
	if len(got) != 1 {
		t.Fatalf("want one VM in vCenter, got %d", len(got))
	}
	if got[0].Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("want the VM powered on, got %s", got[0].Runtime.PowerState)
	}
	// The node image has no disk of its own: every disk is a volume's.
	disks := vmDisks(got[0].Config.Hardware.Device)
	if len(disks) != 2 {
		t.Fatalf("want 2 disks, got %d", len(disks))
	}
	want := map[string]struct {
		bytes int64
		ds    types.ManagedObjectReference
	}{
		"data": {1 << 30, fastDS},
		"logs": {512 << 20, vmDS.Reference()},
	}
	statuses := waitVolumes(h, vm, 2)
	controllers := map[int32]bool{}
	for _, st := range statuses {
		disk, ok := disks[st.DiskUUID]
		if !ok {
			t.Errorf("volume %s: disk UUID %q is not one of the VM's disks", st.Name, st.DiskUUID)
			continue
		}
		b := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		w := want[st.Name]
		if disk.CapacityInBytes != w.bytes || b.Datastore == nil || *b.Datastore != w.ds || !ptr.Deref(b.ThinProvisioned, false) {
			t.Errorf("volume %s: disk %s of %d bytes on %v thin=%v, want %d bytes on %s, thin",
				st.Name, b.FileName, disk.CapacityInBytes, b.Datastore, ptr.Deref(b.ThinProvisioned, false), w.bytes, w.ds)
		}
		if disk.UnitNumber == nil || *disk.UnitNumber == 7 {
			t.Errorf("volume %s: disk on unit %v", st.Name, disk.UnitNumber)
		}
		controllers[disk.ControllerKey] = true
		// The record of which disk is which volume.
		if slot := extraConfig(got[0], "opensupervisor.volume."+st.Name); !strings.HasPrefix(slot, "scsi0:") {
			t.Errorf("volume %s: extraConfig records slot %q", st.Name, slot)
		}
	}
	if statuses[0].DiskUUID == statuses[1].DiskUUID {
		t.Errorf("both volumes report disk %s", statuses[0].DiskUUID)
	}
	if len(controllers) != 1 {
		t.Errorf("want the disks on one SCSI controller, got controllers %v", controllers)
	}
	if n := vmdkFiles(t, fastDir, "db") + vmdkFiles(t, h.Sim.DatastoreURL, "db"); n != 2 {
		t.Errorf("want the disks' 2 files on the datastores, found %d", n)
	}

	// Volumes on disks the watch has seen cost no vCenter call: reordering
	// them only reorders status.
	wait.For(t, harness.Timeout, "the watch to see the disks", func() (bool, error) {
		if found, _ := m.Provider.VMs.Watcher().Get(string(vm.UID)); len(vmDisks(found.Devices)) != 2 {
			return false, fmt.Errorf("the watch does not have the disks yet")
		}
		return true, nil
	})
	calls := vcenterCalls(m)
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), vm); err != nil {
		t.Fatal(err)
	}
	// Patches, not updates: the VM service writes the VM's status while
	// its volumes attach.
	base := vm.DeepCopy()
	vm.Spec.Volumes[0], vm.Spec.Volumes[1] = vm.Spec.Volumes[1], vm.Spec.Volumes[0]
	if err := h.Client.Patch(ctx, vm, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "status.volumes reordered", func() (bool, error) {
		got := &vmopv1.VirtualMachine{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		if got.Status.ObservedGeneration != got.Generation || len(got.Status.Volumes) != 2 || got.Status.Volumes[0].Name != "logs" {
			return false, fmt.Errorf("status.volumes = %+v", got.Status.Volumes)
		}
		return true, nil
	})
	if n := vcenterCalls(m) - calls; n != 0 {
		t.Errorf("want no vCenter call for settled volumes, saw %d", n)
	}

	// A third volume is hot-added; the others keep their disks.
	createClaim(t, h, "db-scratch", "256Mi", fast)
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), vm); err != nil {
		t.Fatal(err)
	}
	base = vm.DeepCopy()
	vm.Spec.Volumes = append(vm.Spec.Volumes, claimVolume("scratch", "db-scratch"))
	if err := h.Client.Patch(ctx, vm, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	after := waitVolumes(h, vm, 3)
	if after[0] != statuses[1] || after[1] != statuses[0] {
		t.Errorf("the first volumes changed: %+v, were %+v", after[:2], statuses)
	}
	disks = vmDisks(vcVMs(t, h, "db")[0].Config.Hardware.Device)
	if scratch, ok := disks[after[2].DiskUUID]; len(disks) != 3 || !ok || scratch.CapacityInBytes != 256<<20 {
		t.Errorf("want a third disk of 256 MiB for volume scratch, got %d disks, %s: %+v", len(disks), after[2].DiskUUID, scratch)
	}

	// Deleting the VM deletes its disks.
	if err := h.Client.Delete(ctx, vm); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "VirtualMachine deleted", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), vm); !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("VirtualMachine still there (%v)", err)
		}
		return true, nil
	})
	if n := allVMsWithUUID(t, h, string(vm.UID)); n != 0 {
		t.Errorf("want the VM destroyed in vCenter, %d remain", n)
	}
	if n := vmdkFiles(t, fastDir, "db") + vmdkFiles(t, h.Sim.DatastoreURL, "db"); n != 0 {
		t.Errorf("want the VM's disks deleted, %d disk files remain", n)
	}
}

// Bad volume input is reported against its field and creates nothing; the
// VM comes up once its claim exists.
func TestVMVolumeBadInput(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()

	missing := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "web"},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
			Volumes: []vmopv1.VirtualMachineVolume{claimVolume("data", "web-data")},
		},
	}
	noDatastore := missing.DeepCopy()
	noDatastore.Name = "cache"
	noDatastore.Spec.Volumes = []vmopv1.VirtualMachineVolume{claimVolume("data", "cache-data")}
	createClaim(t, h, "cache-data", "1Gi", storageClass(t, h, h.StorageClass+"-nodatastore", ""))
	for _, vm := range []*vmopv1.VirtualMachine{missing, noDatastore} {
		if err := h.Client.Create(ctx, vm); err != nil {
			t.Fatal(err)
		}
	}
	const field = "spec.volumes[0].persistentVolumeClaim.claimName"
	expectRejected(t, h, missing, vmopv1.VirtualMachineConditionStorageReady, "PersistentVolumeClaimNotFound",
		field+`: PersistentVolumeClaim "web-data" does not exist`)
	expectRejected(t, h, noDatastore, vmopv1.VirtualMachineConditionStorageReady, "NoDatastore", field)

	createClaim(t, h, "web-data", "1Gi", "")
	vm := waitReady(h, missing)
	if st := waitVolumes(h, vm, 1); st[0].Name != "data" {
		t.Errorf("status.volumes = %+v", st)
	}
	if disks := vmDisks(vcVMs(t, h, "web")[0].Config.Hardware.Device); len(disks) != 1 {
		t.Errorf("want one disk, got %d", len(disks))
	}

	// A volume added to the running VM naming a missing claim is reported
	// on the volume; the VM keeps running with its other disk.
	// A patch, not an update: the VM service may still be writing the VM's
	// status.
	base := vm.DeepCopy()
	vm.Spec.Volumes = append(vm.Spec.Volumes, claimVolume("more", "web-more"))
	if err := h.Client.Patch(ctx, vm, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	const msg = `spec.volumes[1].persistentVolumeClaim.claimName: PersistentVolumeClaim "web-more" does not exist`
	wait.For(t, harness.Timeout, "the missing claim of a new volume reported", func() (bool, error) {
		got := &vmopv1.VirtualMachine{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		if st := got.Status.Volumes; len(st) != 2 || !st[0].Attached || st[1].Attached || st[1].Error != msg {
			return false, fmt.Errorf("status.volumes = %+v", st)
		}
		if c := conditions.Get(got, vmopv1.VirtualMachineConditionStorageReady); c == nil || c.Status != metav1.ConditionFalse || c.Message != msg {
			return false, fmt.Errorf("condition %+v", c)
		}
		if got.Status.PowerState != vmopv1.VirtualMachinePowerStateOn {
			return false, fmt.Errorf("the VM is %s", got.Status.PowerState)
		}
		return true, nil
	})
	createClaim(t, h, "web-more", "1Gi", "")
	waitVolumes(h, vm, 2)
	if disks := vmDisks(vcVMs(t, h, "web")[0].Config.Hardware.Device); len(disks) != 2 {
		t.Errorf("want two disks, got %d", len(disks))
	}
}

func claimVolume(name, claim string) vmopv1.VirtualMachineVolume {
	src := &vmopv1.PersistentVolumeClaimVolumeSource{}
	src.ClaimName = claim
	return vmopv1.VirtualMachineVolume{Name: name, PersistentVolumeClaim: src}
}

// createClaim creates a claim of size in the test's namespace, of class
// unless that is empty.
func createClaim(t *testing.T, h *harness.Harness, name, size, class string) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
	if class != "" {
		pvc.Spec.StorageClassName = ptr.To(class)
	}
	if err := h.Client.Create(context.Background(), pvc); err != nil {
		t.Fatal(err)
	}
}

// storageClass creates a StorageClass on the datastore with URL url (none
// when empty) and returns its name.
func storageClass(t *testing.T, h *harness.Harness, name, url string) string {
	t.Helper()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "csi.vsphere.vmware.com"}
	if url != "" {
		sc.Parameters = map[string]string{virtualmachine.StorageClassDatastoreURLParameter: url}
	}
	if err := h.Client.Create(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Client.Delete(context.Background(), sc) })
	return name
}

// addDatastore mounts a new local datastore on every host and returns it
// and its URL (a directory).
func addDatastore(t *testing.T, h *harness.Harness, name string) (types.ManagedObjectReference, string) {
	t.Helper()
	ctx := context.Background()
	finder := find.NewFinder(h.Sim.Client.Client)
	hosts, err := finder.HostSystemList(ctx, "/"+vcsim.Datacenter+"/host/"+vcsim.Cluster+"/*")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var ref types.ManagedObjectReference
	for i, host := range hosts {
		dss, err := host.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := dss.CreateLocalDatastore(ctx, name, dir)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 { // vcsim returns an empty reference when mounting it on more hosts
			ref = ds.Reference()
		}
	}
	return ref, dir
}

// waitVolumes waits until status.volumes lists n volumes, all attached.
func waitVolumes(h *harness.Harness, vm *vmopv1.VirtualMachine, n int) []vmopv1.VirtualMachineVolumeStatus {
	h.T.Helper()
	got := &vmopv1.VirtualMachine{}
	wait.For(h.T, harness.Timeout, fmt.Sprintf("%d volumes of %s attached", n, vm.Name), func() (bool, error) {
		if err := h.Client.Get(context.Background(), client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		if len(got.Status.Volumes) != n {
			return false, fmt.Errorf("status.volumes = %+v", got.Status.Volumes)
		}
		for _, st := range got.Status.Volumes {
			if !st.Attached || st.DiskUUID == "" {
				return false, fmt.Errorf("status.volumes = %+v", got.Status.Volumes)
			}
		}
		return true, nil
	})
	return got.Status.Volumes
}

// vcenterCalls counts the manager's vCenter calls but the watch's long polls.
func vcenterCalls(m *harness.Manager) int64 {
	var n int64
	for method, c := range m.Provider.Sessions.Stats.Calls() {
		if method != "WaitForUpdatesEx" {
			n += c
		}
	}
	return n
}

// vmDisks returns the disks among a VM's devices by UUID.
func vmDisks(devices []types.BaseVirtualDevice) map[string]*types.VirtualDisk {
	out := map[string]*types.VirtualDisk{}
	for _, d := range object.VirtualDeviceList(devices).SelectByType((*types.VirtualDisk)(nil)) {
		disk := d.(*types.VirtualDisk)
		out[disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo).Uuid] = disk
	}
	return out
}

// vmdkFiles counts the disk files of the VM named vm under a datastore's directory.
func vmdkFiles(t *testing.T, dir, vm string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), vm) &&
			strings.HasSuffix(d.Name(), ".vmdk") && !strings.HasSuffix(d.Name(), "-flat.vmdk") {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
