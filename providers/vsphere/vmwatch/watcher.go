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

// watch follows the VMs through one set of views and filters until an
// error or the end of ctx.
func (w *Watcher) watch(ctx context.Context) error {
	s, err := subscribe(ctx, w.client, w.root)
	if err != nil {
		return err
	}
	defer s.close(context.WithoutCancel(ctx))

	// A restart begins from an empty cache: VMs that vanished while we were
	// away must not linger.
	stale := w.reset()
	members := membership{}
	return s.pc.WaitForUpdatesEx(ctx, &property.WaitOptions{}, func(updates []types.ObjectUpdate) bool {
		for _, uuid := range w.update(ctx, s, members, stale, updates) {
			if uuid != "" {
				w.notify(uuid)
			}
		}
		return false
	})
}

// subscription is the property collector and the views it follows.
type subscription struct {
	pc        *property.Collector
	container *view.ContainerView
	list      *view.ListView
	// closers destroy what was made, last made first.
	closers []func(context.Context) error
}

func (s *subscription) close(ctx context.Context) {
	for i := len(s.closers) - 1; i >= 0; i-- {
		_ = s.closers[i](ctx)
	}
}

// subscribe makes a collector with two filters: one follows the container
// view's membership; the other follows the VMs through a ListView that the
// watch loop alone changes, between polls. (Traversing the container view
// directly is one filter less, but vcsim deadlocks re-traversing a view
// while VMs are being created into it.)
func subscribe(ctx context.Context, c *vim25.Client, root types.ManagedObjectReference) (_ *subscription, reterr error) {
	s := &subscription{}
	defer func() {
		if reterr != nil {
			s.close(context.WithoutCancel(ctx))
		}
	}()
	var err error
	if s.container, err = view.NewManager(c).CreateContainerView(ctx, root, []string{"VirtualMachine"}, true); err != nil {
		return nil, fmt.Errorf("failed to create a container view: %w", err)
	}
	s.closers = append(s.closers, s.container.Destroy)
	if s.pc, err = property.DefaultCollector(c).Create(ctx); err != nil {
		return nil, fmt.Errorf("failed to create a property collector: %w", err)
	}
	s.closers = append(s.closers, s.pc.Destroy)
	if _, err := s.pc.CreateFilter(ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: s.container.Reference()}},
		PropSet:   []types.PropertySpec{{Type: "ContainerView", PathSet: []string{"view"}}},
	}}); err != nil {
		return nil, fmt.Errorf("failed to create the membership filter: %w", err)
	}
	if s.list, err = view.NewManager(c).CreateListView(ctx, nil); err != nil {
		return nil, fmt.Errorf("failed to create a list view: %w", err)
	}
	s.closers = append(s.closers, s.list.Destroy)
	if _, err := s.pc.CreateFilter(ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:       s.list.Reference(),
			Skip:      types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ListView", Path: "view"}},
		}},
		PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: watchedProperties}},
	}}); err != nil {
		return nil, fmt.Errorf("failed to create the VM filter: %w", err)
	}
	return s, nil
}

// reset empties the cache and returns what it held.
func (w *Watcher) reset() map[types.ManagedObjectReference]*mo.VirtualMachine {
	w.mu.Lock()
	defer w.mu.Unlock()
	stale := w.vms
	w.vms = map[types.ManagedObjectReference]*mo.VirtualMachine{}
	w.byUUID = map[string]types.ManagedObjectReference{}
	return stale
}

// update folds one batch of updates into the cache: it moves VMs that
// joined or left the container view into or out of the list view, reads
// the joiners in full, and on the first membership report marks the watch
// synced. It returns the instance UUIDs of the VMs that changed.
func (w *Watcher) update(ctx context.Context, s *subscription, members membership, stale map[types.ManagedObjectReference]*mo.VirtualMachine,
	updates []types.ObjectUpdate) []string {
	d := members.diff(s.container.Reference(), updates)
	if len(d.joined) > 0 {
		_, _ = s.list.Add(ctx, d.joined)
	}
	if len(d.left) > 0 {
		_, _ = s.list.Remove(ctx, d.left)
	}
	changed := w.apply(d.vmUpdates)
	// Read the joiners' current values at once (one call for all of
	// them) rather than wait for their filters' first report.
	if len(d.joined) > 0 {
		var vms []mo.VirtualMachine
		if err := property.DefaultCollector(w.client).Retrieve(ctx, d.joined, watchedProperties, &vms); err == nil {
			changed = append(changed, w.put(vms)...)
		}
	}
	if d.membership {
		select {
		case <-w.synced:
		default:
			changed = append(changed, w.vanished(stale)...)
			w.once.Do(func() { close(w.synced) })
		}
	}
	return changed
}

// vanished returns the instance UUIDs of VMs in stale (the cache before a
// restart) that the cache no longer holds: their owners must hear of it.
func (w *Watcher) vanished(stale map[types.ManagedObjectReference]*mo.VirtualMachine) []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var gone []string
	for ref, vm := range stale {
		if _, ok := w.vms[ref]; !ok && vm.Config != nil {
			gone = append(gone, vm.Config.InstanceUuid)
		}
	}
	return gone
}

// membership is the set of VMs in the container view, as last reported.
type membership map[types.ManagedObjectReference]bool

// membershipDiff is what one batch of updates means for the cache.
type membershipDiff struct {
	// membership is true if the batch reported the view's members.
	membership bool
	// joined and left are the VMs that entered and left the view.
	joined, left []types.ManagedObjectReference
	// vmUpdates are the updates to apply to the cache: a leave for every VM
	// that left the view, and the VMs' property updates.
	vmUpdates []types.ObjectUpdate
}

// diff folds a batch of updates into m and says what changed. Membership
// comes from the container view (the update for viewRef) alone: a "leave"
// from the list view's filter for a VM still in the container is not one
// (vcsim reports such when the list changes), so it is dropped.
func (m membership) diff(viewRef types.ManagedObjectReference, updates []types.ObjectUpdate) membershipDiff {
	var d membershipDiff
	for _, u := range updates {
		if u.Obj != viewRef {
			continue
		}
		d.membership = true
		members := viewMembers(u.ChangeSet)
		for ref := range members {
			if !m[ref] {
				m[ref] = true
				d.joined = append(d.joined, ref)
			}
		}
		for ref := range m {
			if !members[ref] {
				delete(m, ref)
				d.left = append(d.left, ref)
				d.vmUpdates = append(d.vmUpdates, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
			}
		}
	}
	for _, u := range updates {
		if u.Obj == viewRef || (u.Kind == types.ObjectUpdateKindLeave && m[u.Obj]) {
			continue
		}
		d.vmUpdates = append(d.vmUpdates, u)
	}
	return d
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
	vmsFollowed.Set(float64(len(w.vms)))
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
	vmsFollowed.Set(float64(len(w.vms)))
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
	vmsFollowed.Set(float64(len(w.vms)))
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
