package virtualmachine

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// fakeVCenter is an in-memory vCenter for the reconciler's unit tests: VMs
// by instance UUID, clone tasks that run until the test ends them, and the
// lookups the inventory would answer. It records the calls that change
// something, so a test can say what the reconciler asked for.
type fakeVCenter struct {
	mu     sync.Mutex
	synced chan struct{}

	vms    map[string]*vmwatch.VM // instance UUID -> VM
	tasks  map[string]*fakeTask   // task ref -> task
	nextID int
	calls  []string // "Clone <name>", "PowerOn <vm>", "PowerOff <vm>", "Reconfigure <vm>", "Destroy <vm>"
	clones []fakeClone
	// configs are the config specs of Reconfigure calls, in order.
	configs []types.VirtualMachineConfigSpec

	datastores map[string]types.ManagedObjectReference // URL -> datastore
	portGroups map[string]bool
	images     map[string]*inventory.Image // template ID or library item ID -> image
	cpuMhz     int64
	hosts      map[types.ManagedObjectReference]string

	// guest is what ReadGuest returns, by VM moref value.
	guest map[string]GuestState
	// powerOpErr fails PowerOp calls of an operation.
	powerOpErr map[PowerOp]error

	// findErr and cloneErr, when set, are what FindVM and Clone return.
	findErr, cloneErr error
	// unwatched are VMs (by instance UUID) the watch has not reported yet:
	// FindVM does not find them, a clone task's result does.
	unwatched map[string]bool
	// staleInWatch are VMs (by instance UUID) as a watch holds them that
	// missed vCenter's later changes (read while vCenter was still making
	// them, or an update lost): FindVM returns this copy until RefreshVM
	// reads the VM again.
	staleInWatch map[string]vmwatch.VM
}

// faultError is a failed task's error as govmomi reports it: fault.Is
// finds the fault in it.
type faultError struct{ *types.LocalizedMethodFault }

func (e faultError) Error() string { return e.LocalizedMessage }

type fakeTask struct {
	done  bool
	err   error
	clone *fakeClone // the clone this task makes, if it is one
}

type fakeClone struct {
	template, folder types.ManagedObjectReference
	name             string
	spec             types.VirtualMachineCloneSpec
	task             string
}

var _ VCenter = &fakeVCenter{}

// fakeDatastoreURL and the other fake* values are what newFakeVCenter knows.
const (
	fakeDatastoreURL = "ds:///vmfs/volumes/fake/"
	fakePortGroup    = "workload"
	fakeTemplateID   = "vm-template"
)

var (
	fakeDatastore = types.ManagedObjectReference{Type: "Datastore", Value: "datastore-1"}
	fakeHost      = types.ManagedObjectReference{Type: "HostSystem", Value: "host-1"}
)

// newFakeVCenter returns a synced fake with one datastore, one portgroup,
// one template image (with a NIC) and one 2000 MHz host.
func newFakeVCenter() *fakeVCenter {
	synced := make(chan struct{})
	close(synced)
	nic := &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: types.VirtualEthernetCard{
		VirtualDevice: types.VirtualDevice{Key: 4000},
	}}}
	return &fakeVCenter{
		synced:     synced,
		guest:      map[string]GuestState{},
		powerOpErr: map[PowerOp]error{},
		vms:        map[string]*vmwatch.VM{},
		tasks:      map[string]*fakeTask{},
		datastores: map[string]types.ManagedObjectReference{fakeDatastoreURL: fakeDatastore},
		portGroups: map[string]bool{fakePortGroup: true},
		images: map[string]*inventory.Image{fakeTemplateID: {
			Template: types.ManagedObjectReference{Type: "VirtualMachine", Value: fakeTemplateID},
			NIC:      nic,
			Devices:  object.VirtualDeviceList{nic},
		}},
		cpuMhz: 2000,
		hosts:  map[types.ManagedObjectReference]string{fakeHost: "esx-1"},
	}
}

// finishTask ends a task; a clone that succeeds makes its VM, powered on
// if the clone asked for it, on fakeHost.
func (f *fakeVCenter) finishTask(ref string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tasks[ref]
	t.done, t.err = true, err
	if err != nil || t.clone == nil {
		return
	}
	f.nextID++
	vm := &vmwatch.VM{
		Ref:          types.ManagedObjectReference{Type: "VirtualMachine", Value: fmt.Sprintf("vm-%d", f.nextID)},
		Name:         t.clone.name,
		InstanceUUID: t.clone.spec.Config.InstanceUuid,
		PowerState:   types.VirtualMachinePowerStatePoweredOff,
		Host:         &fakeHost,
	}
	if t.clone.spec.PowerOn {
		vm.PowerState = types.VirtualMachinePowerStatePoweredOn
	}
	if a := t.clone.spec.Config.CpuAllocation; a != nil && a.Reservation != nil {
		vm.CPUReservation = *a.Reservation
	}
	if a := t.clone.spec.Config.MemoryAllocation; a != nil && a.Reservation != nil {
		vm.MemReservation = *a.Reservation
	}
	f.vms[vm.InstanceUUID] = vm
}

// addVM puts a VM in the fake, as if it had been there all along.
func (f *fakeVCenter) addVM(vm vmwatch.VM) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vms[vm.InstanceUUID] = &vm
}

// setIP makes a VM's guest report an address.
func (f *fakeVCenter) setIP(instanceUUID, ip string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vms[instanceUUID].IPAddress = ip
}

func (f *fakeVCenter) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeVCenter) Synced() <-chan struct{} { return f.synced }

func (f *fakeVCenter) FindVM(_ context.Context, uuid string) (vmwatch.VM, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.findErr != nil {
		return vmwatch.VM{}, false, f.findErr
	}
	vm, ok := f.vms[uuid]
	if !ok || f.unwatched[uuid] {
		return vmwatch.VM{}, false, nil
	}
	if stale, ok := f.staleInWatch[uuid]; ok {
		return stale, true, nil
	}
	return *vm, true, nil
}

func (f *fakeVCenter) RefreshVM(_ context.Context, vm vmwatch.VM) (vmwatch.VM, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.staleInWatch, vm.InstanceUUID)
	found, ok := f.vms[vm.InstanceUUID]
	if !ok {
		return vmwatch.VM{}, false, nil
	}
	return *found, true, nil
}

func (f *fakeVCenter) ClonedVM(_ context.Context, _ string, uuid string) (vmwatch.VM, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vm, ok := f.vms[uuid]
	if !ok {
		return vmwatch.VM{}, false, nil
	}
	return *vm, true, nil
}

func (f *fakeVCenter) TaskState(_ context.Context, ref string) (bool, error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[ref]
	if !ok {
		return true, nil, nil // vCenter forgets finished tasks
	}
	return t.done, t.err, nil
}

func (f *fakeVCenter) NamespaceFolder(_ context.Context, namespace string) (types.ManagedObjectReference, error) {
	return types.ManagedObjectReference{Type: "Folder", Value: "folder-" + namespace}, nil
}

func (f *fakeVCenter) Clone(_ context.Context, template, folder types.ManagedObjectReference, name string, spec types.VirtualMachineCloneSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Clone "+name)
	if f.cloneErr != nil {
		return "", f.cloneErr
	}
	f.nextID++
	ref := fmt.Sprintf("task-%d", f.nextID)
	c := fakeClone{template: template, folder: folder, name: name, spec: spec, task: ref}
	f.clones = append(f.clones, c)
	f.tasks[ref] = &fakeTask{clone: &c}
	return ref, nil
}

func (f *fakeVCenter) SetPowerState(_ context.Context, vm vmwatch.VM, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	state, call := types.VirtualMachinePowerStatePoweredOff, "PowerOff "
	if on {
		state, call = types.VirtualMachinePowerStatePoweredOn, "PowerOn "
	}
	f.calls = append(f.calls, call+vm.Ref.Value)
	f.vms[vm.InstanceUUID].PowerState = state
	return nil
}

func (f *fakeVCenter) PowerOp(_ context.Context, vm vmwatch.VM, op PowerOp) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, string(op)+" "+vm.Ref.Value)
	if err := f.powerOpErr[op]; err != nil {
		return err
	}
	switch op {
	case PowerOffHard, ShutdownGuest:
		f.vms[vm.InstanceUUID].PowerState = types.VirtualMachinePowerStatePoweredOff
	case SuspendHard, StandbyGuest:
		f.vms[vm.InstanceUUID].PowerState = types.VirtualMachinePowerStateSuspended
	}
	return nil
}

func (f *fakeVCenter) UpgradeHardware(_ context.Context, vm vmwatch.VM, version string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "UpgradeHardware "+vm.Ref.Value+" "+version)
	return nil
}

func (f *fakeVCenter) ReadGuest(_ context.Context, ref types.ManagedObjectReference) (GuestState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.guest[ref.Value]
	if st.ExtraConfig == nil {
		st.ExtraConfig = map[string]string{}
	}
	return st, nil
}

func (f *fakeVCenter) Reconfigure(_ context.Context, vm vmwatch.VM, spec types.VirtualMachineConfigSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Reconfigure "+vm.Ref.Value)
	f.configs = append(f.configs, spec)
	stored := f.vms[vm.InstanceUUID]
	if a := spec.CpuAllocation; a != nil && a.Reservation != nil {
		stored.CPUReservation = *a.Reservation
	}
	if a := spec.MemoryAllocation; a != nil && a.Reservation != nil {
		stored.MemReservation = *a.Reservation
	}
	return nil
}

func (f *fakeVCenter) Destroy(_ context.Context, vm vmwatch.VM) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Destroy "+vm.Ref.Value)
	delete(f.vms, vm.InstanceUUID)
	return nil
}

func (f *fakeVCenter) ReadDisks(context.Context, types.ManagedObjectReference) (object.VirtualDeviceList, []types.BaseOptionValue, error) {
	return nil, nil, nil
}

func (f *fakeVCenter) DatastoreByURL(_ context.Context, url string) (types.ManagedObjectReference, error) {
	if ds, ok := f.datastores[url]; ok {
		return ds, nil
	}
	return types.ManagedObjectReference{}, fmt.Errorf("datastore with URL %q: %w", url, inventory.ErrNotFound)
}

func (f *fakeVCenter) DatastoreName(_ context.Context, ref types.ManagedObjectReference) (string, error) {
	return "name-of-" + ref.Value, nil
}

func (f *fakeVCenter) NetworkBacking(_ context.Context, portGroup string) (types.BaseVirtualDeviceBackingInfo, error) {
	if !f.portGroups[portGroup] {
		return nil, fmt.Errorf("portgroup %q: %w", portGroup, inventory.ErrNotFound)
	}
	return &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: portGroup}}, nil
}

func (f *fakeVCenter) TemplateImage(_ context.Context, id string) (*inventory.Image, error) {
	if img, ok := f.images[id]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("template %s: %w", id, inventory.ErrNotFound)
}

func (f *fakeVCenter) LibraryImage(ctx context.Context, itemID, _ string, _ types.ManagedObjectReference) (*inventory.Image, error) {
	return f.TemplateImage(ctx, itemID)
}

func (f *fakeVCenter) MinHostCPUMhz(context.Context) (int64, error) { return f.cpuMhz, nil }

func (f *fakeVCenter) HostName(_ context.Context, ref types.ManagedObjectReference) (string, error) {
	return f.hosts[ref], nil
}
