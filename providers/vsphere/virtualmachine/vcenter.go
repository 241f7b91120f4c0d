package virtualmachine

import (
	"context"
	"errors"
	"fmt"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// VCenter is everything the VM reconciler asks of vCenter. The reconciler
// decides; this carries the decision out, so that the decisions can be
// tested on an in-memory fake (vcenter_fake_test.go) while vCenter's own
// behaviour is tested on vcsim by the integration tests.
//
// Calls that start a vCenter task wait for it, except Clone: a clone takes
// long enough that the reconciler records its task and looks again later.
type VCenter interface {
	// Synced is closed once FindVM knows every VM that existed at start.
	Synced() <-chan struct{}
	// FindVM finds a VM by instance UUID (a VirtualMachine's UID) under the
	// supervisor's folder (anywhere in the datacenter while the watch
	// restarts); ok is false when there is none.
	FindVM(ctx context.Context, instanceUUID string) (vm vmwatch.VM, ok bool, err error)
	// ClonedVM finds the VM a successful clone task made: from the watch if
	// it holds it already, else through the task's result, so that a VM
	// the watch has not reported yet is not taken for none and cloned
	// again. ok is false if the VM is gone.
	ClonedVM(ctx context.Context, taskRef, instanceUUID string) (vm vmwatch.VM, ok bool, err error)
	// RefreshVM rereads the config (devices, sizes, reservations) of a VM
	// whose clone has just ended: the watch may have read it while vCenter
	// was still making it. ok is false if the VM is gone.
	RefreshVM(ctx context.Context, vm vmwatch.VM) (refreshed vmwatch.VM, ok bool, err error)
	// TaskState reads a task once. A task vCenter no longer knows is done;
	// taskErr is the failure of a task that is done.
	TaskState(ctx context.Context, ref string) (done bool, taskErr error, err error)
	// NamespaceFolder is the VM folder of a namespace, made on first use.
	NamespaceFolder(ctx context.Context, namespace string) (types.ManagedObjectReference, error)
	// Clone starts cloning template into folder, in the supervisor's
	// resource pool, and returns the task's reference.
	Clone(ctx context.Context, template, folder types.ManagedObjectReference, name string, spec types.VirtualMachineCloneSpec) (taskRef string, err error)
	// SetPowerState powers a VM on or off; a VM already so is no error.
	SetPowerState(ctx context.Context, vm vmwatch.VM, on bool) error
	// PowerOp carries out a hard or guest (soft) power operation; a VM
	// already in the state it leads to is no error.
	PowerOp(ctx context.Context, vm vmwatch.VM, op PowerOp) error
	// UpgradeHardware upgrades a powered-off VM's virtual hardware to
	// version (vmx-NN).
	UpgradeHardware(ctx context.Context, vm vmwatch.VM, version string) error
	// ReadGuest reads what readiness probes and vApp bootstrap look at.
	ReadGuest(ctx context.Context, ref types.ManagedObjectReference) (GuestState, error)
	// Reconfigure applies a config spec to a VM.
	Reconfigure(ctx context.Context, vm vmwatch.VM, spec types.VirtualMachineConfigSpec) error
	// Destroy powers a VM off and destroys it; a VM already gone is no error.
	Destroy(ctx context.Context, vm vmwatch.VM) error
	// ReadDisks reads a VM's devices and extraConfig, where volumes' disks
	// are recorded.
	ReadDisks(ctx context.Context, ref types.ManagedObjectReference) (object.VirtualDeviceList, []types.BaseOptionValue, error)

	// Lookups, cached by the inventory. A name vCenter does not know is
	// inventory.ErrNotFound.

	// DatastoreByURL finds a datastore by summary.url.
	DatastoreByURL(ctx context.Context, url string) (types.ManagedObjectReference, error)
	DatastoreName(ctx context.Context, ref types.ManagedObjectReference) (string, error)
	// NetworkBacking is the NIC backing of a portgroup.
	NetworkBacking(ctx context.Context, portGroup string) (types.BaseVirtualDeviceBackingInfo, error)
	// TemplateImage is an image in the inventory, by VM moref ID.
	TemplateImage(ctx context.Context, id string) (*inventory.Image, error)
	// LibraryImage is a content-library item's image, deployed onto the
	// portgroup and datastore on first use.
	LibraryImage(ctx context.Context, itemID, portGroup string, datastore types.ManagedObjectReference) (*inventory.Image, error)
	// MinHostCPUMhz is the slowest host's clock, a vCPU reservation's unit.
	MinHostCPUMhz(ctx context.Context) (int64, error)
	HostName(ctx context.Context, ref types.ManagedObjectReference) (string, error)
}

// PowerOp is a power operation.
type PowerOp string

// Power operations: Hard ones are vCenter's, the others ask VMware Tools.
const (
	PowerOffHard  PowerOp = "PowerOff"
	ShutdownGuest PowerOp = "ShutdownGuest"
	SuspendHard   PowerOp = "Suspend"
	StandbyGuest  PowerOp = "StandbyGuest"
	ResetHard     PowerOp = "Reset"
	RebootGuest   PowerOp = "RebootGuest"
)

// GuestState is what ReadGuest reads.
type GuestState struct {
	// Heartbeat is VMware Tools' heartbeat colour (gray, red, yellow, green).
	Heartbeat string
	// ExtraConfig are the VM's extraConfig keys and values.
	ExtraConfig map[string]string
	// VAppProperties are the VM's vApp properties.
	VAppProperties []types.VAppPropertyInfo
	// HardwareVersion is the VM's virtual hardware version (vmx-NN).
	HardwareVersion string
}

// govmomiVCenter is the VCenter of a real (or simulated) vCenter: VM state
// from the shared watch, lookups from the inventory, the rest through govmomi.
type govmomiVCenter struct {
	inv     *inventory.Inventory
	watcher *vmwatch.Watcher
}

var _ VCenter = &govmomiVCenter{}

func (v *govmomiVCenter) Synced() <-chan struct{} { return v.watcher.Synced() }

// FindVM answers from the watch, which holds every VM under the
// supervisor's folder: a VM it holds is returned as it holds it, and one it
// lacks while current does not exist there (a clone under way is known by
// its task, status.taskRef), so neither costs a vCenter call. Only while
// the watch starts over after an error is vCenter asked, by instance UUID
// across the datacenter, so that a VM is never cloned while one exists.
func (v *govmomiVCenter) FindVM(ctx context.Context, uuid string) (vmwatch.VM, bool, error) {
	if found, ok := v.watcher.Get(uuid); ok {
		return found, true, nil
	}
	if v.watcher.Current() {
		return vmwatch.VM{}, false, nil
	}
	return v.findInVCenter(ctx, uuid)
}

// findInVCenter asks vCenter for the VM with an instance UUID, anywhere
// in the datacenter.
func (v *govmomiVCenter) findInVCenter(ctx context.Context, uuid string) (vmwatch.VM, bool, error) {
	c := v.inv.Session.Client
	refs, err := object.NewSearchIndex(c).FindAllByUuid(ctx, v.inv.Datacenter, uuid, true, ptr.To(true))
	if err != nil {
		return vmwatch.VM{}, false, fmt.Errorf("failed to search VMs by instance UUID %s: %w", uuid, err)
	}
	if len(refs) == 0 {
		return vmwatch.VM{}, false, nil
	}
	if len(refs) > 1 {
		ctrl.LoggerFrom(ctx).Error(nil, "More than one VM has this instance UUID; using the first", "count", len(refs))
	}
	found, err := vmwatch.Read(ctx, c, refs[0].Reference())
	if isGone(err) {
		return vmwatch.VM{}, false, nil // destroyed between the search and the read
	}
	return found, err == nil, err
}

func (v *govmomiVCenter) ClonedVM(ctx context.Context, taskRef, uuid string) (vmwatch.VM, bool, error) {
	if found, ok := v.watcher.Get(uuid); ok {
		return v.RefreshVM(ctx, found)
	}
	c := v.inv.Session.Client
	var task mo.Task
	err := property.DefaultCollector(c).RetrieveOne(ctx, types.ManagedObjectReference{Type: "Task", Value: taskRef}, []string{"info.result"}, &task)
	if isGone(err) {
		// vCenter forgot the task: ask it by instance UUID.
		return v.findInVCenter(ctx, uuid)
	}
	if err != nil {
		return vmwatch.VM{}, false, fmt.Errorf("failed to read the result of clone task %s: %w", taskRef, err)
	}
	ref, ok := task.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return v.findInVCenter(ctx, uuid)
	}
	// The watch may hold the VM under another instance UUID: the one
	// vCenter gave it before the clone's own.
	if found, held, err := v.watcher.Refresh(ctx, ref); err != nil || held {
		return found, held, err
	}
	found, err := vmwatch.Read(ctx, c, ref)
	if isGone(err) {
		return vmwatch.VM{}, false, nil
	}
	return found, err == nil, err
}

func (v *govmomiVCenter) RefreshVM(ctx context.Context, vm vmwatch.VM) (vmwatch.VM, bool, error) {
	found, held, err := v.watcher.Refresh(ctx, vm.Ref)
	if isGone(err) {
		return vmwatch.VM{}, false, nil
	}
	if err != nil || held {
		return found, held, err
	}
	// Left the watch since (destroyed, or the watch is starting over).
	found, err = vmwatch.Read(ctx, v.inv.Session.Client, vm.Ref)
	if isGone(err) {
		return vmwatch.VM{}, false, nil
	}
	return found, err == nil, err
}

// refusedByVCenter says whether err carries vCenter's answer (a SOAP
// fault) rather than a failure to hear one.
func refusedByVCenter(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if soap.IsSoapFault(err) || soap.IsVimFault(err) {
			return true
		}
	}
	return false
}

func isGone(err error) bool {
	return err != nil && fault.Is(err, &types.ManagedObjectNotFound{})
}

func (v *govmomiVCenter) TaskState(ctx context.Context, ref string) (bool, error, error) {
	return inventory.TaskState(ctx, v.inv.Session.Client, ref)
}

func (v *govmomiVCenter) NamespaceFolder(ctx context.Context, namespace string) (types.ManagedObjectReference, error) {
	f, err := v.inv.NamespaceFolder(ctx, namespace)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return f.Reference(), nil
}

func (v *govmomiVCenter) Clone(ctx context.Context, template, folder types.ManagedObjectReference, name string, spec types.VirtualMachineCloneSpec) (string, error) {
	c := v.inv.Session.Client
	pool := v.inv.Pool.Reference()
	spec.Location.Pool = &pool
	task, err := object.NewVirtualMachine(c, template).Clone(ctx, object.NewFolder(c, folder), name, spec)
	if err != nil {
		return "", err
	}
	return task.Reference().Value, nil
}

func (v *govmomiVCenter) SetPowerState(ctx context.Context, vm vmwatch.VM, on bool) error {
	vmobj := object.NewVirtualMachine(v.inv.Session.Client, vm.Ref)
	var task *object.Task
	var err error
	if on {
		task, err = vmobj.PowerOn(ctx)
	} else {
		task, err = vmobj.PowerOff(ctx)
	}
	if err == nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil && !fault.Is(err, &types.InvalidPowerState{}) {
		return err
	}
	// The watch reports the new state.
	return nil
}

func (v *govmomiVCenter) Reconfigure(ctx context.Context, vm vmwatch.VM, spec types.VirtualMachineConfigSpec) error {
	task, err := object.NewVirtualMachine(v.inv.Session.Client, vm.Ref).Reconfigure(ctx, spec)
	if err == nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil {
		return err
	}
	// vCenter may not announce allocation changes through the watch; record
	// what was just set so the next reconcile does not set it again.
	if spec.CpuAllocation != nil || spec.MemoryAllocation != nil {
		v.watcher.Observe(vm.InstanceUUID, func(m *mo.VirtualMachine) {
			if m.Config == nil {
				return
			}
			if spec.CpuAllocation != nil {
				m.Config.CpuAllocation = &types.ResourceAllocationInfo{Reservation: spec.CpuAllocation.Reservation}
			}
			if spec.MemoryAllocation != nil {
				m.Config.MemoryAllocation = &types.ResourceAllocationInfo{Reservation: spec.MemoryAllocation.Reservation}
			}
		})
	}
	return nil
}

func (v *govmomiVCenter) Destroy(ctx context.Context, vm vmwatch.VM) error {
	vmobj := object.NewVirtualMachine(v.inv.Session.Client, vm.Ref)
	if vm.PowerState == types.VirtualMachinePowerStatePoweredOn {
		task, err := vmobj.PowerOff(ctx)
		if err == nil {
			err = inventory.WaitTask(ctx, task)
		}
		if err != nil && !fault.Is(err, &types.InvalidPowerState{}) && !isGone(err) {
			return fmt.Errorf("failed to power off VM %s: %w", vm.Ref.Value, err)
		}
	}
	task, err := vmobj.Destroy(ctx)
	if err == nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil && !isGone(err) {
		return fmt.Errorf("failed to destroy VM %s: %w", vm.Ref.Value, err)
	}
	// Before vCenter's "leave" arrives, a reconcile must not find it and
	// destroy it twice.
	v.watcher.Forget(vm.InstanceUUID)
	return nil
}

func (v *govmomiVCenter) ReadDisks(ctx context.Context, ref types.ManagedObjectReference) (object.VirtualDeviceList, []types.BaseOptionValue, error) {
	var m mo.VirtualMachine
	if err := property.DefaultCollector(v.inv.Session.Client).RetrieveOne(ctx, ref, []string{"config.hardware.device", "config.extraConfig"}, &m); err != nil {
		return nil, nil, fmt.Errorf("failed to read the disks of VM %s: %w", ref.Value, err)
	}
	if m.Config == nil {
		return nil, nil, nil
	}
	return m.Config.Hardware.Device, m.Config.ExtraConfig, nil
}

func (v *govmomiVCenter) DatastoreByURL(ctx context.Context, url string) (types.ManagedObjectReference, error) {
	return v.inv.DatastoreByURL(ctx, url)
}

func (v *govmomiVCenter) DatastoreName(ctx context.Context, ref types.ManagedObjectReference) (string, error) {
	return v.inv.DatastoreName(ctx, ref)
}

func (v *govmomiVCenter) NetworkBacking(ctx context.Context, portGroup string) (types.BaseVirtualDeviceBackingInfo, error) {
	return v.inv.NetworkBacking(ctx, portGroup)
}

func (v *govmomiVCenter) TemplateImage(ctx context.Context, id string) (*inventory.Image, error) {
	return v.inv.TemplateImage(ctx, id)
}

func (v *govmomiVCenter) LibraryImage(ctx context.Context, itemID, portGroup string, datastore types.ManagedObjectReference) (*inventory.Image, error) {
	n, err := v.inv.Network(ctx, portGroup)
	if err != nil {
		return nil, err
	}
	return v.inv.LibraryImage(ctx, itemID, n, datastore)
}

func (v *govmomiVCenter) MinHostCPUMhz(ctx context.Context) (int64, error) {
	return v.inv.MinHostCPUMhz(ctx)
}

func (v *govmomiVCenter) HostName(ctx context.Context, ref types.ManagedObjectReference) (string, error) {
	return v.inv.HostName(ctx, ref)
}

func (v *govmomiVCenter) PowerOp(ctx context.Context, vm vmwatch.VM, op PowerOp) error {
	vmobj := object.NewVirtualMachine(v.inv.Session.Client, vm.Ref)
	var task *object.Task
	var err error
	switch op {
	case PowerOffHard:
		task, err = vmobj.PowerOff(ctx)
	case SuspendHard:
		task, err = vmobj.Suspend(ctx)
	case ResetHard:
		task, err = vmobj.Reset(ctx)
	case ShutdownGuest:
		err = vmobj.ShutdownGuest(ctx)
	case StandbyGuest:
		err = vmobj.StandbyGuest(ctx)
	case RebootGuest:
		err = vmobj.RebootGuest(ctx)
	default:
		return fmt.Errorf("unknown power operation %q", op)
	}
	if err == nil && task != nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil && !fault.Is(err, &types.InvalidPowerState{}) {
		return err
	}
	return nil
}

func (v *govmomiVCenter) ReadGuest(ctx context.Context, ref types.ManagedObjectReference) (GuestState, error) {
	var m mo.VirtualMachine
	if err := property.DefaultCollector(v.inv.Session.Client).RetrieveOne(ctx, ref, []string{"guestHeartbeatStatus", "config.extraConfig", "config.vAppConfig", "config.version"}, &m); err != nil {
		return GuestState{}, fmt.Errorf("failed to read the guest state of VM %s: %w", ref.Value, err)
	}
	st := GuestState{Heartbeat: string(m.GuestHeartbeatStatus), ExtraConfig: map[string]string{}}
	if m.Config != nil {
		for _, o := range m.Config.ExtraConfig {
			ov := o.GetOptionValue()
			st.ExtraConfig[ov.Key] = fmt.Sprint(ov.Value)
		}
		st.HardwareVersion = m.Config.Version
		if m.Config.VAppConfig != nil {
			st.VAppProperties = m.Config.VAppConfig.GetVmConfigInfo().Property
		}
	}
	return st, nil
}

func (v *govmomiVCenter) UpgradeHardware(ctx context.Context, vm vmwatch.VM, version string) error {
	task, err := object.NewVirtualMachine(v.inv.Session.Client, vm.Ref).UpgradeVM(ctx, version)
	if err == nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil && !fault.Is(err, &types.AlreadyUpgraded{}) {
		return err
	}
	return nil
}
