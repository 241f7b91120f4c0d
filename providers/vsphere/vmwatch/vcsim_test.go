package vmwatch_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
	"github.com/open-supervisor/supervisor/test/wait"
)

// sim is a vcsim with a template VM outside the watched folder.
type sim struct {
	model    *simulator.Model
	server   *simulator.Server
	admin    *vim25.Client
	root     *object.Folder
	template *object.VirtualMachine
	pool     types.ManagedObjectReference
}

func startSim(t *testing.T) *sim {
	t.Helper()
	ctx := context.Background()
	m := simulator.VPX()
	m.Machine = 1
	m.Cluster = 0 // one host, one default pool
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	s := &sim{model: m, server: m.Service.NewServer()}
	t.Cleanup(func() { s.server.Close(); m.Remove() })
	s.admin = s.login(t)
	finder := find.NewFinder(s.admin, true)
	dc, err := finder.DefaultDatacenter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	finder.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.root, err = folders.VmFolder.CreateFolder(ctx, "Namespaces"); err != nil {
		t.Fatal(err)
	}
	if s.template, err = finder.VirtualMachine(ctx, "DC0_H0_VM0"); err != nil {
		t.Fatal(err)
	}
	pool, err := finder.DefaultResourcePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.pool = pool.Reference()
	return s
}

func (s *sim) login(t *testing.T) *vim25.Client {
	t.Helper()
	ctx := context.Background()
	c, err := vim25.NewClient(ctx, soap.NewClient(s.server.URL, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword("user", "pass")); err != nil {
		t.Fatal(err)
	}
	return c
}

// clone makes a powered-on VM with instance UUID uuid in the watched folder.
func (s *sim) clone(ctx context.Context, name, uuid string) error {
	task, err := s.template.Clone(ctx, s.root, name, types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &s.pool},
		Config:   &types.VirtualMachineConfigSpec{InstanceUuid: uuid},
		PowerOn:  true,
	})
	if err != nil {
		return err
	}
	return task.Wait(ctx) // a collector per call: WaitEx shares one and is not safe concurrently
}

// startWatcher runs a watcher over the folder on its own session until
// the test ends, and waits for it to sync.
func (s *sim) startWatcher(t *testing.T) *vmwatch.Watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := vmwatch.New(s.login(t), s.root.Reference(), func(string) {})
	done := make(chan struct{})
	go func() { _ = w.Start(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-w.Synced():
	case <-time.After(time.Minute):
		t.Fatal("the watch did not sync")
	}
	return w
}

func uuidOf(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// TestABurstOfClonesIsFollowed: every VM of a burst created at once is held,
// powered on, by the time its clone is done and the watch caught up.
func TestABurstOfClonesIsFollowed(t *testing.T) {
	s := startSim(t)
	w := s.startWatcher(t)
	ctx := context.Background()
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.clone(ctx, fmt.Sprintf("vm-%02d", i), uuidOf(i)) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	err := wait.Poll(ctx, 20*time.Millisecond, 2*time.Minute, "the watch to hold every clone, powered on", func() (bool, error) {
		for i := range n {
			vm, ok := w.Get(uuidOf(i))
			if !ok || vm.PowerState != types.VirtualMachinePowerStatePoweredOn || vm.Name != fmt.Sprintf("vm-%02d", i) {
				return false, fmt.Errorf("VM %d: held %v as %+v", i, ok, vm)
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !w.Current() || w.Len() != n {
		t.Errorf("current %v, %d VMs held, want %d", w.Current(), w.Len(), n)
	}
}

// TestMembershipDoesNotWaitForTheStatePoll: while vcsim cannot read one
// VM's state (the test holds its lock, as a long task or a busy collector
// would), a VM cloned meanwhile is still held, in full: membership has its
// own collector. With one collector for both, the new VM stayed out of the
// cache for as long as the state poll was held up.
func TestMembershipDoesNotWaitForTheStatePoll(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	if err := s.clone(ctx, "stuck", uuidOf(1)); err != nil {
		t.Fatal(err)
	}
	w := s.startWatcher(t)
	if _, ok := w.Get(uuidOf(1)); !ok {
		t.Fatal("the watch does not hold the VM that existed at its start")
	}
	stuck := s.model.Map().Get(mustRef(t, w, uuidOf(1)))
	locked, release := make(chan struct{}), make(chan struct{})
	released := sync.OnceFunc(func() { close(release) })
	go s.model.Service.Context.WithLock(stuck, func() { close(locked); <-release })
	t.Cleanup(released)
	<-locked

	if err := s.clone(ctx, "new", uuidOf(2)); err != nil {
		t.Fatal(err)
	}
	err := wait.Poll(ctx, 20*time.Millisecond, 2*time.Minute, "the watch to hold the new VM", func() (bool, error) {
		vm, ok := w.Get(uuidOf(2))
		if !ok || vm.Name != "new" || vm.NumCPU == 0 {
			return false, fmt.Errorf("held %v as %+v", ok, vm)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	released()
	// Once vcsim can read it again, the state poll goes on: the stuck VM
	// powered off is reported.
	if _, err := object.NewVirtualMachine(s.admin, stuck.Reference()).PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	err = wait.Poll(ctx, 20*time.Millisecond, 2*time.Minute, "the watch to report the power-off", func() (bool, error) {
		vm, _ := w.Get(uuidOf(1))
		return vm.PowerState == types.VirtualMachinePowerStatePoweredOff, fmt.Errorf("power state %q", vm.PowerState)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustRef(t *testing.T, w *vmwatch.Watcher, uuid string) types.ManagedObjectReference {
	t.Helper()
	vm, ok := w.Get(uuid)
	if !ok {
		t.Fatalf("no VM %s", uuid)
	}
	return vm.Ref
}

// TestRefreshRereadsWhatChangedWithoutAChangeVersion: vcsim lists a clone
// before it gives it its instance UUID and devices, and does not move
// config.changeVersion when it does, so the watch can hold a clone as it
// was half made (and, at times, without the address its guest reported).
// Refresh reads it again: the VM is then held under its own instance UUID,
// with its disks and address, and no longer under the UUID it had first.
func TestRefreshRereadsWhatChangedWithoutAChangeVersion(t *testing.T) {
	s := startSim(t)
	ctx := context.Background()
	if err := s.clone(ctx, "half-made", uuidOf(1)); err != nil {
		t.Fatal(err)
	}
	w := s.startWatcher(t)
	ref := mustRef(t, w, uuidOf(1))
	held, _ := w.Get(uuidOf(1))

	// What the clone does after listing the VM, as vcsim does it: in place.
	simVM := s.model.Map().Get(ref).(*simulator.VirtualMachine)
	disk := &types.VirtualDisk{VirtualDevice: types.VirtualDevice{Key: 2999}, CapacityInKB: 1 << 20}
	s.model.Service.Context.WithLock(simVM, func() {
		simVM.Config.InstanceUuid = uuidOf(2)
		simVM.Config.Hardware.Device = append(simVM.Config.Hardware.Device, disk)
		simVM.Guest.IpAddress = "10.0.0.9"
	})

	got, ok, err := w.Refresh(ctx, ref)
	if err != nil || !ok {
		t.Fatalf("refresh: held %v, err %v", ok, err)
	}
	if got.InstanceUUID != uuidOf(2) || len(got.Devices) != len(held.Devices)+1 || got.IPAddress != "10.0.0.9" {
		t.Errorf("refreshed VM: instance UUID %s, %d devices, address %q; want %s, %d, 10.0.0.9",
			got.InstanceUUID, len(got.Devices), got.IPAddress, uuidOf(2), len(held.Devices)+1)
	}
	if vm, ok := w.Get(uuidOf(2)); !ok || vm.Ref != ref {
		t.Errorf("the VM is held under its new instance UUID: %v %+v", ok, vm.Ref)
	}
	if _, ok := w.Get(uuidOf(1)); ok {
		t.Error("the VM is no longer held under the instance UUID it had first")
	}
	if _, ok, err := w.Refresh(ctx, types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-none"}); ok || err != nil {
		t.Errorf("a VM the watch does not hold is not refreshed: held %v, err %v", ok, err)
	}
}
