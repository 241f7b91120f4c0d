// Package vmwatch keeps the state of every VM under the supervisor's folder
// current through one PropertyCollector (a filter on a ContainerView's
// membership, and one on the VMs through a ListView), long polling
// WaitForUpdatesEx. Reconcilers read VM state from it instead of
// asking vCenter per VM, and it wakes them when a VM they own changes, so an
// idle supervisor makes no per-VM calls at all. VMs are keyed by instance
// UUID, which the VM service sets to the owning object's UID.
package vmwatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// watchedProperties are the VM properties reconcilers need.
var watchedProperties = []string{
	"name",
	"config.instanceUuid",
	"config.uuid",
	"config.hardware.numCPU",
	"config.hardware.memoryMB",
	"config.cpuAllocation",
	"config.memoryAllocation",
	"config.hardware.device",
	"runtime.powerState",
	"runtime.host",
	"guest.ipAddress",
	"guest.net",
}

// VM is a snapshot of one VM's watched properties.
type VM struct {
	Ref            types.ManagedObjectReference
	Name           string
	InstanceUUID   string
	BiosUUID       string
	NumCPU         int32
	MemoryMB       int32
	CPUReservation int64
	MemReservation int64
	PowerState     types.VirtualMachinePowerState
	Host           *types.ManagedObjectReference
	IPAddress      string
	Net            []types.GuestNicInfo
	// Devices are the VM's virtual hardware (disks, controllers, NICs);
	// read only, shared with the watch.
	Devices []types.BaseVirtualDevice
}

// Watcher follows the VMs under one folder.
type Watcher struct {
	client *vim25.Client
	root   types.ManagedObjectReference
	// notify is called with the instance UUID of every VM that changed.
	notify func(instanceUUID string)

	mu     sync.RWMutex
	vms    map[types.ManagedObjectReference]*mo.VirtualMachine
	byUUID map[string]types.ManagedObjectReference
	synced chan struct{}
	once   sync.Once
}

// New returns a watcher over the VMs under root (recursively). notify must
// not block for long.
func New(c *vim25.Client, root types.ManagedObjectReference, notify func(instanceUUID string)) *Watcher {
	return &Watcher{
		client: c,
		root:   root,
		notify: notify,
		vms:    map[types.ManagedObjectReference]*mo.VirtualMachine{},
		byUUID: map[string]types.ManagedObjectReference{},
		synced: make(chan struct{}),
	}
}

// Synced is closed once the watcher holds every VM that existed when it started.
func (w *Watcher) Synced() <-chan struct{} { return w.synced }

// Get returns the VM with the given instance UUID, if the watcher has seen it.
func (w *Watcher) Get(instanceUUID string) (VM, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	ref, ok := w.byUUID[instanceUUID]
	if !ok {
		return VM{}, false
	}
	return snapshot(w.vms[ref]), true
}

// Len returns the number of VMs the watcher follows.
func (w *Watcher) Len() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return len(w.vms)
}

// Start follows updates until ctx ends, starting over (new view and filter)
// after an error such as a lost session. It implements manager.Runnable.
func (w *Watcher) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("vmwatch")
	backoff := time.Second
	for ctx.Err() == nil {
		err := w.watch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		log.Error(err, "Watching VMs failed, starting over", "after", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	return nil
}

func (w *Watcher) watch(ctx context.Context) error {
	v, err := view.NewManager(w.client).CreateContainerView(ctx, w.root, []string{"VirtualMachine"}, true)
	if err != nil {
		return fmt.Errorf("failed to create a container view: %w", err)
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()

	pc, err := property.DefaultCollector(w.client).Create(ctx)
	if err != nil {
		return fmt.Errorf("failed to create a property collector: %w", err)
	}
	defer func() { _ = pc.Destroy(context.WithoutCancel(ctx)) }()

	// One filter follows the container view's membership; a second follows
	// the VMs through a ListView that this loop alone changes, between polls.
	// (Traversing the container view directly is one filter less, but vcsim
	// deadlocks re-traversing a view while VMs are being created into it.)
	if _, err := pc.CreateFilter(ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: v.Reference()}},
		PropSet:   []types.PropertySpec{{Type: "ContainerView", PathSet: []string{"view"}}},
	}}); err != nil {
		return fmt.Errorf("failed to create the membership filter: %w", err)
	}
	lv, err := view.NewManager(w.client).CreateListView(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to create a list view: %w", err)
	}
	defer func() { _ = lv.Destroy(context.WithoutCancel(ctx)) }()
	if _, err := pc.CreateFilter(ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:       lv.Reference(),
			Skip:      types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ListView", Path: "view"}},
		}},
		PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: watchedProperties}},
	}}); err != nil {
		return fmt.Errorf("failed to create the VM filter: %w", err)
	}

	// A restart begins from an empty cache: VMs that vanished while we were
	// away must not linger.
	w.mu.Lock()
	stale := w.vms
	w.vms = map[types.ManagedObjectReference]*mo.VirtualMachine{}
	w.byUUID = map[string]types.ManagedObjectReference{}
	w.mu.Unlock()
	listed := map[types.ManagedObjectReference]bool{}

	return pc.WaitForUpdatesEx(ctx, &property.WaitOptions{}, func(updates []types.ObjectUpdate) bool {
		var vmUpdates []types.ObjectUpdate
		var joined, left []types.ManagedObjectReference
		membership := false
		for _, u := range updates {
			if u.Obj != v.Reference() {
				continue
			}
			membership = true
			members := viewMembers(u.ChangeSet)
			for ref := range members {
				if !listed[ref] {
					listed[ref] = true
					joined = append(joined, ref)
				}
			}
			for ref := range listed {
				if !members[ref] {
					delete(listed, ref)
					left = append(left, ref)
					vmUpdates = append(vmUpdates, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
				}
			}
		}
		// Membership comes from the container view alone: a "leave" from the
		// list view's filter for a VM still in the container is not one
		// (vcsim reports such when the list changes).
		for _, u := range updates {
			if u.Obj == v.Reference() || (u.Kind == types.ObjectUpdateKindLeave && listed[u.Obj]) {
				continue
			}
			vmUpdates = append(vmUpdates, u)
		}
		if len(joined) > 0 {
			_, _ = lv.Add(ctx, joined)
		}
		if len(left) > 0 {
			_, _ = lv.Remove(ctx, left)
		}
		changed := w.apply(vmUpdates)
		// Read the joiners' current values at once (one call for all of
		// them) rather than wait for their filters' first report.
		if len(joined) > 0 {
			var vms []mo.VirtualMachine
			if err := property.DefaultCollector(w.client).Retrieve(ctx, joined, watchedProperties, &vms); err == nil {
				changed = append(changed, w.put(vms)...)
			}
		}
		if membership {
			select {
			case <-w.synced:
			default:
				for ref, vm := range stale {
					if _, ok := w.vms[ref]; !ok && vm.Config != nil {
						changed = append(changed, vm.Config.InstanceUuid)
					}
				}
				w.once.Do(func() { close(w.synced) })
			}
		}
		for _, uuid := range changed {
			if uuid != "" {
				w.notify(uuid)
			}
		}
		return false
	})
}

// put stores VMs read in full and returns their instance UUIDs.
func (w *Watcher) put(vms []mo.VirtualMachine) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []string
	for i := range vms {
		vm := vms[i]
		w.vms[vm.Self] = &vm
		if vm.Config != nil && vm.Config.InstanceUuid != "" {
			w.byUUID[vm.Config.InstanceUuid] = vm.Self
			changed = append(changed, vm.Config.InstanceUuid)
		}
	}
	return changed
}

// viewMembers reads the VMs of a ContainerView "view" change.
func viewMembers(changes []types.PropertyChange) map[types.ManagedObjectReference]bool {
	out := map[types.ManagedObjectReference]bool{}
	for _, c := range changes {
		if c.Name != "view" {
			continue
		}
		var refs []types.ManagedObjectReference
		switch v := c.Val.(type) {
		case types.ArrayOfManagedObjectReference:
			refs = v.ManagedObjectReference
		case []types.ManagedObjectReference:
			refs = v
		}
		for _, r := range refs {
			out[r] = true
		}
	}
	return out
}

// apply folds updates into the cache and returns the instance UUIDs touched.
func (w *Watcher) apply(updates []types.ObjectUpdate) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []string
	for _, u := range updates {
		switch u.Kind {
		case types.ObjectUpdateKindLeave:
			if vm, ok := w.vms[u.Obj]; ok {
				if vm.Config != nil {
					delete(w.byUUID, vm.Config.InstanceUuid)
					changed = append(changed, vm.Config.InstanceUuid)
				}
				delete(w.vms, u.Obj)
			}
		default:
			vm, ok := w.vms[u.Obj]
			if !ok {
				vm = &mo.VirtualMachine{}
				vm.Self = u.Obj
				w.vms[u.Obj] = vm
			}
			mo.ApplyPropertyChange(vm, u.ChangeSet)
			if vm.Config != nil && vm.Config.InstanceUuid != "" {
				w.byUUID[vm.Config.InstanceUuid] = u.Obj
				changed = append(changed, vm.Config.InstanceUuid)
			}
		}
	}
	return changed
}

// Observe records state the caller just set in vCenter (a finished
// reconfigure), for properties vCenter may not announce.
func (w *Watcher) Observe(instanceUUID string, f func(vm *mo.VirtualMachine)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ref, ok := w.byUUID[instanceUUID]; ok {
		f(w.vms[ref])
	}
}

// Forget drops a VM the caller just destroyed, so that a reconcile running
// before vCenter's "leave" arrives does not destroy it twice.
func (w *Watcher) Forget(instanceUUID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ref, ok := w.byUUID[instanceUUID]; ok {
		delete(w.vms, ref)
		delete(w.byUUID, instanceUUID)
	}
}

func snapshot(vm *mo.VirtualMachine) VM {
	s := VM{Ref: vm.Self, Name: vm.Name, PowerState: vm.Runtime.PowerState, Host: vm.Runtime.Host}
	if c := vm.Config; c != nil {
		s.InstanceUUID = c.InstanceUuid
		s.BiosUUID = c.Uuid
		s.NumCPU = c.Hardware.NumCPU
		s.MemoryMB = c.Hardware.MemoryMB
		if c.CpuAllocation != nil && c.CpuAllocation.Reservation != nil {
			s.CPUReservation = *c.CpuAllocation.Reservation
		}
		if c.MemoryAllocation != nil && c.MemoryAllocation.Reservation != nil {
			s.MemReservation = *c.MemoryAllocation.Reservation
		}
		s.Devices = append([]types.BaseVirtualDevice(nil), c.Hardware.Device...)
	}
	if g := vm.Guest; g != nil {
		s.IPAddress = g.IpAddress
		s.Net = append([]types.GuestNicInfo(nil), g.Net...)
	}
	return s
}

// Read fetches one VM's watched properties directly from vCenter, for a VM
// found outside the watched folder.
func Read(ctx context.Context, c *vim25.Client, ref types.ManagedObjectReference) (VM, error) {
	var vm mo.VirtualMachine
	if err := property.DefaultCollector(c).RetrieveOne(ctx, ref, watchedProperties, &vm); err != nil {
		return VM{}, fmt.Errorf("failed to read VM %s: %w", ref.Value, err)
	}
	return snapshot(&vm), nil
}
