package vmwatch

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// configProperties are the VM properties that change only when the VM is
// reconfigured (or renamed), which bumps config.changeVersion: they are read
// when a VM joins and again when its changeVersion moves, not long polled.
var configProperties = []string{
	"name",
	"config.changeVersion",
	"config.instanceUuid",
	"config.uuid",
	"config.hardware.numCPU",
	"config.hardware.memoryMB",
	"config.cpuAllocation",
	"config.memoryAllocation",
	"config.hardware.device",
}

// stateProperties are long polled: what changes without a reconfigure
// (power, host, the guest's addresses) and the changeVersion that says a
// reconfigure happened. Few and small on purpose: a property collector's
// cost per change grows with what its filter covers (vcsim re-reads every
// covered VM's properties for every change anywhere in its inventory, so
// following 100 VMs' whole config kept the long poll from returning during
// a burst of clones).
var stateProperties = []string{
	"config.changeVersion",
	"runtime.powerState",
	"runtime.host",
	"guest.ipAddress",
	"guest.net",
}

// watchedProperties are all the VM properties reconcilers read.
var watchedProperties = append(append([]string{}, configProperties...), stateProperties[1:]...)

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
	// current is true while the cache holds every VM of the last
	// membership report: false from a restart until the new report is read.
	current bool
	synced  chan struct{}
	once    sync.Once
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

// Current says whether the cache holds every VM vCenter listed at the last
// membership report, so that a VM it lacks does not exist under the root
// (but for one created since). It is false while the watch starts over
// after an error: callers must then ask vCenter.
func (w *Watcher) Current() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.current
}

// Len returns the number of VMs the watcher follows.
func (w *Watcher) Len() int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return len(w.vms)
}

// Start follows updates until ctx ends, starting over (new views and
// collectors) after an error such as a lost session. It implements
// manager.Runnable.
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

// errPollEnded is a long poll that ended without an error before the watch did.
var errPollEnded = errors.New("a long poll ended")

// watch follows the VMs through one set of views and collectors until an
// error or the end of ctx. Two long polls run side by side: membership
// (cheap: one property of one view) and the members' state. Membership
// never waits behind the state poll, so a new VM is held (read in full as
// it joins) as soon as vCenter lists it, however busy the state poll is.
func (w *Watcher) watch(ctx context.Context) error {
	s, err := subscribe(ctx, w.client, w.root)
	if err != nil {
		return err
	}
	defer s.close(context.WithoutCancel(ctx))

	// A restart begins from an empty cache: VMs that vanished while we were
	// away must not linger.
	stale := w.reset()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	members := membership{}
	errs := make(chan error, 2)
	go func() {
		var failed error
		err := s.members.WaitForUpdatesEx(ctx, &property.WaitOptions{}, func(updates []types.ObjectUpdate) bool {
			changed, err := w.onMembership(ctx, s, members, stale, updates)
			w.tell(changed)
			failed = err
			return err != nil
		})
		errs <- cmpOr(failed, err)
	}()
	go func() {
		errs <- s.state.WaitForUpdatesEx(ctx, &property.WaitOptions{}, func(updates []types.ObjectUpdate) bool {
			w.tell(w.onState(ctx, updates))
			return false
		})
	}()
	err = <-errs
	cancel()
	<-errs
	if err == nil {
		err = errPollEnded
	}
	return err
}

func cmpOr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Watcher) tell(changed []string) {
	for _, uuid := range changed {
		if uuid != "" {
			w.notify(uuid)
		}
	}
}

// subscription is the collectors and the views they follow.
type subscription struct {
	client    *vim25.Client
	members   *property.Collector
	state     *property.Collector
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

// subscribe makes two collectors: one follows the container view's
// membership; the other follows the members' state through a ListView that
// the membership loop alone changes. (Traversing the container view
// directly is one filter less, but vcsim deadlocks re-traversing a view
// while VMs are being created into it.)
func subscribe(ctx context.Context, c *vim25.Client, root types.ManagedObjectReference) (_ *subscription, reterr error) {
	s := &subscription{client: c}
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
	if s.list, err = view.NewManager(c).CreateListView(ctx, nil); err != nil {
		return nil, fmt.Errorf("failed to create a list view: %w", err)
	}
	s.closers = append(s.closers, s.list.Destroy)
	if s.members, err = property.DefaultCollector(c).Create(ctx); err != nil {
		return nil, fmt.Errorf("failed to create a property collector: %w", err)
	}
	s.closers = append(s.closers, s.members.Destroy)
	if _, err := s.members.CreateFilter(ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: s.container.Reference()}},
		PropSet:   []types.PropertySpec{{Type: "ContainerView", PathSet: []string{"view"}}},
	}}); err != nil {
		return nil, fmt.Errorf("failed to create the membership filter: %w", err)
	}
	if s.state, err = property.DefaultCollector(c).Create(ctx); err != nil {
		return nil, fmt.Errorf("failed to create a property collector: %w", err)
	}
	s.closers = append(s.closers, s.state.Destroy)
	if _, err := s.state.CreateFilter(ctx, types.CreateFilter{Spec: types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:       s.list.Reference(),
			Skip:      types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ListView", Path: "view"}},
		}},
		PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: stateProperties}},
	}}); err != nil {
		return nil, fmt.Errorf("failed to create the VM filter: %w", err)
	}
	return s, nil
}

// read reads props of refs in one call; a VM destroyed meanwhile is left out.
func read(ctx context.Context, c *vim25.Client, refs []types.ManagedObjectReference, props []string) ([]types.ObjectContent, error) {
	objects := make([]types.ObjectSpec, 0, len(refs))
	for _, ref := range refs {
		objects = append(objects, types.ObjectSpec{Obj: ref})
	}
	return mo.RetrievePropertiesEx(ctx, c, types.RetrievePropertiesEx{
		This: c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet:                     objects,
			PropSet:                       []types.PropertySpec{{Type: "VirtualMachine", PathSet: props}},
			ReportMissingObjectsInResults: types.NewBool(true),
		}},
	})
}

// reset empties the cache and returns what it held.
func (w *Watcher) reset() map[types.ManagedObjectReference]*mo.VirtualMachine {
	w.mu.Lock()
	defer w.mu.Unlock()
	stale := w.vms
	w.vms = map[types.ManagedObjectReference]*mo.VirtualMachine{}
	w.byUUID = map[string]types.ManagedObjectReference{}
	w.current = false
	vmsFollowed.Set(0)
	return stale
}

// onMembership folds one membership report into the cache: joiners are
// read in full (one call for all of them) and only then added to the list
// view, so that the state poll's first report of each, made after the
// read, carries values at least as new; leavers are dropped and taken off
// the list view. The first report marks the watch synced. It returns the
// instance UUIDs of the VMs that changed, and an error (the watch then
// starts over) if a joiner could not be read or followed: a VM the cache
// lacks must be one vCenter lacks.
func (w *Watcher) onMembership(ctx context.Context, s *subscription, members membership,
	stale map[types.ManagedObjectReference]*mo.VirtualMachine, updates []types.ObjectUpdate) ([]string, error) {
	d := members.diff(s.container.Reference(), updates)
	var changed []string
	if len(d.left) > 0 {
		changed = append(changed, w.drop(d.left)...)
		if _, err := s.list.Remove(ctx, d.left); err != nil {
			return changed, fmt.Errorf("failed to stop following %d VMs that left: %w", len(d.left), err)
		}
	}
	if len(d.joined) > 0 {
		contents, err := read(ctx, s.client, d.joined, watchedProperties)
		if err != nil {
			return changed, fmt.Errorf("failed to read %d VMs that joined: %w", len(d.joined), err)
		}
		changed = append(changed, w.join(contents)...)
		if _, err := s.list.Add(ctx, d.joined); err != nil {
			return changed, fmt.Errorf("failed to follow %d VMs that joined: %w", len(d.joined), err)
		}
	}
	if !d.membership {
		return changed, nil
	}
	w.mu.Lock()
	w.current = true
	w.mu.Unlock()
	select {
	case <-w.synced:
	default:
		changed = append(changed, w.vanished(stale)...)
		w.once.Do(func() { close(w.synced) })
	}
	return changed, nil
}

// onState folds the state poll's updates into the cache, then rereads the
// config properties of the VMs whose changeVersion moved (one call for all).
func (w *Watcher) onState(ctx context.Context, updates []types.ObjectUpdate) []string {
	changed, reconfigured := w.apply(updates)
	if len(reconfigured) > 0 {
		contents, err := read(ctx, w.client, reconfigured, configProperties)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Reading reconfigured VMs failed", "count", len(reconfigured))
		}
		changed = append(changed, w.merge(contents)...)
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

// membershipDiff is what one batch of membership updates means.
type membershipDiff struct {
	// membership is true if the batch reported the view's members.
	membership bool
	// joined and left are the VMs that entered and left the view.
	joined, left []types.ManagedObjectReference
}

// diff folds a batch of updates into m and says who joined and left.
// Membership comes from the container view (the update for viewRef) alone.
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
			}
		}
	}
	return d
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

// changes turns read properties into assignments.
func changes(props []types.DynamicProperty) []types.PropertyChange {
	out := make([]types.PropertyChange, 0, len(props))
	for _, p := range props {
		out = append(out, types.PropertyChange{Name: p.Name, Op: types.PropertyChangeOpAssign, Val: p.Val})
	}
	return out
}

// join stores VMs read in full as they joined and returns their instance UUIDs.
func (w *Watcher) join(contents []types.ObjectContent) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []string
	for _, oc := range contents {
		if len(oc.PropSet) == 0 {
			continue // destroyed before it was read
		}
		vm := &mo.VirtualMachine{}
		vm.Self = oc.Obj
		mo.ApplyPropertyChange(vm, changes(oc.PropSet))
		w.vms[oc.Obj] = vm
		changed = append(changed, w.index(vm)...)
	}
	vmsFollowed.Set(float64(len(w.vms)))
	return changed
}

// merge folds reread config properties into VMs still held.
func (w *Watcher) merge(contents []types.ObjectContent) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []string
	for _, oc := range contents {
		if vm, ok := w.vms[oc.Obj]; ok && len(oc.PropSet) > 0 {
			w.unindex(vm)
			mo.ApplyPropertyChange(vm, changes(oc.PropSet))
			changed = append(changed, w.index(vm)...)
		}
	}
	return changed
}

// Refresh rereads a VM the watch holds and returns the VM as the watch now
// holds it; ok is false if the watch does not hold it. A reconciler calls
// this once the VM's clone task has ended, because a VM read as it joined
// may have been caught while vCenter was still creating it, and vcsim does
// not always report what followed: it lists a clone before it gives it its
// instance UUID and devices and moves no config.changeVersion for them (the
// config is otherwise reread only when changeVersion moves), and the state
// poll can miss the power-on and address of a VM that was added to the
// list view while it was being powered on (the benchmark of 100 VMs saw a
// few stay "poweredOff" or without an address in the watch for 20 s).
func (w *Watcher) Refresh(ctx context.Context, ref types.ManagedObjectReference) (VM, bool, error) {
	w.mu.RLock()
	_, held := w.vms[ref]
	w.mu.RUnlock()
	if !held {
		return VM{}, false, nil
	}
	contents, err := read(ctx, w.client, []types.ManagedObjectReference{ref}, watchedProperties)
	if err != nil {
		return VM{}, false, fmt.Errorf("failed to reread VM %s: %w", ref.Value, err)
	}
	w.merge(contents)
	w.mu.RLock()
	defer w.mu.RUnlock()
	vm, ok := w.vms[ref]
	if !ok {
		return VM{}, false, nil
	}
	return snapshot(vm), true, nil
}

// index keys vm by its instance UUID; w.mu is held.
func (w *Watcher) index(vm *mo.VirtualMachine) []string {
	if vm.Config == nil || vm.Config.InstanceUuid == "" {
		return nil
	}
	w.byUUID[vm.Config.InstanceUuid] = vm.Self
	return []string{vm.Config.InstanceUuid}
}

// unindex drops vm's key before its instance UUID may change; w.mu is held.
func (w *Watcher) unindex(vm *mo.VirtualMachine) {
	if vm.Config != nil && w.byUUID[vm.Config.InstanceUuid] == vm.Self {
		delete(w.byUUID, vm.Config.InstanceUuid)
	}
}

// drop forgets VMs that left the view and returns their instance UUIDs.
func (w *Watcher) drop(refs []types.ManagedObjectReference) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var changed []string
	for _, ref := range refs {
		if vm, ok := w.vms[ref]; ok {
			if vm.Config != nil && vm.Config.InstanceUuid != "" {
				if w.byUUID[vm.Config.InstanceUuid] == ref {
					delete(w.byUUID, vm.Config.InstanceUuid)
				}
				changed = append(changed, vm.Config.InstanceUuid)
			}
			delete(w.vms, ref)
		}
	}
	vmsFollowed.Set(float64(len(w.vms)))
	return changed
}

// apply folds state updates into VMs the cache holds and returns the
// instance UUIDs of the VMs whose state the updates changed and the VMs
// whose config.changeVersion moved. An update that repeats what the cache
// holds changes nothing and wakes no one: vcsim reports every VM of the
// list view again, in full, whenever the list changes, which during a
// burst of clones woke every VM's reconciler once per joining batch.
// Updates for VMs it does not hold are dropped: a VM is held from its join
// read until it leaves the view or is forgotten, and a late update must
// not bring back a VM that was destroyed. Leaves are the membership
// poll's to decide (vcsim reports a leave from a list view whenever the
// list changes).
func (w *Watcher) apply(updates []types.ObjectUpdate) (changed []string, reconfigured []types.ManagedObjectReference) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, u := range updates {
		vm, ok := w.vms[u.Obj]
		if !ok || u.Kind == types.ObjectUpdateKindLeave {
			continue
		}
		before := stateOf(vm)
		mo.ApplyPropertyChange(vm, u.ChangeSet)
		after := stateOf(vm)
		if after.changeVersion != before.changeVersion && before.changeVersion != "" {
			reconfigured = append(reconfigured, u.Obj)
		}
		if !reflect.DeepEqual(before, after) {
			changed = append(changed, w.index(vm)...)
		}
	}
	return changed, reconfigured
}

// state is a copy of what the state poll follows of a VM (stateProperties).
type state struct {
	changeVersion string
	powerState    types.VirtualMachinePowerState
	host          types.ManagedObjectReference
	ipAddress     string
	net           []types.GuestNicInfo
}

// stateOf copies vm's followed state. Applying a change replaces a
// property's value, never edits the one held, so the copy of guest.net
// may share its elements.
func stateOf(vm *mo.VirtualMachine) state {
	s := state{powerState: vm.Runtime.PowerState}
	if vm.Config != nil {
		s.changeVersion = vm.Config.ChangeVersion
	}
	if vm.Runtime.Host != nil {
		s.host = *vm.Runtime.Host
	}
	if vm.Guest != nil {
		s.ipAddress, s.net = vm.Guest.IpAddress, vm.Guest.Net
	}
	return s
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
// before vCenter's "leave" arrives does not destroy it twice; updates for
// it that arrive late are dropped (apply).
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
