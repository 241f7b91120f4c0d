package vmwatch

import (
	"maps"
	"slices"
	"testing"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
)

func vmRef(id string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "VirtualMachine", Value: id}
}

var viewRef = types.ManagedObjectReference{Type: "ContainerView", Value: "session[1]view"}

// viewUpdate is the container view reporting its members.
func viewUpdate(ids ...string) types.ObjectUpdate {
	refs := make([]types.ManagedObjectReference, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, vmRef(id))
	}
	return types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: viewRef, ChangeSet: []types.PropertyChange{
		{Name: "view", Op: types.PropertyChangeOpAssign, Val: types.ArrayOfManagedObjectReference{ManagedObjectReference: refs}},
	}}
}

// vmUpdate is a VM's property update, or a leave, from the list view's filter.
func vmUpdate(kind types.ObjectUpdateKind, id string) types.ObjectUpdate {
	u := types.ObjectUpdate{Kind: kind, Obj: vmRef(id)}
	if kind != types.ObjectUpdateKindLeave {
		u.ChangeSet = []types.PropertyChange{{Name: "name", Op: types.PropertyChangeOpAssign, Val: id}}
	}
	return u
}

func ids(refs []types.ManagedObjectReference) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Value)
	}
	slices.Sort(out)
	return out
}

// TestMembershipDiff feeds one membership through a sequence of batches,
// as WaitForUpdatesEx delivers them.
func TestMembershipDiff(t *testing.T) {
	steps := []struct {
		name           string
		updates        []types.ObjectUpdate
		wantMembership bool
		joined, left   []string
		members        []string
	}{
		{
			name:           "first report: every VM joins",
			updates:        []types.ObjectUpdate{viewUpdate("vm-1", "vm-2")},
			wantMembership: true, joined: []string{"vm-1", "vm-2"}, left: []string{},
			members: []string{"vm-1", "vm-2"},
		},
		{
			name:    "property updates pass through; no membership report",
			updates: []types.ObjectUpdate{vmUpdate(types.ObjectUpdateKindEnter, "vm-1"), vmUpdate(types.ObjectUpdateKindModify, "vm-2")},
			joined:  []string{}, left: []string{},
			members: []string{"vm-1", "vm-2"},
		},
		{
			name:           "a clone joins while a VM changes",
			updates:        []types.ObjectUpdate{viewUpdate("vm-1", "vm-2", "vm-3"), vmUpdate(types.ObjectUpdateKindModify, "vm-1")},
			wantMembership: true, joined: []string{"vm-3"}, left: []string{},
			members: []string{"vm-1", "vm-2", "vm-3"},
		},
		{
			name:    "a list-view leave for a VM still in the container is not a leave",
			updates: []types.ObjectUpdate{vmUpdate(types.ObjectUpdateKindLeave, "vm-2")},
			joined:  []string{}, left: []string{},
			members: []string{"vm-1", "vm-2", "vm-3"},
		},
		{
			name:           "a destroyed VM leaves the view and the cache",
			updates:        []types.ObjectUpdate{viewUpdate("vm-1", "vm-3"), vmUpdate(types.ObjectUpdateKindLeave, "vm-2")},
			wantMembership: true, joined: []string{}, left: []string{"vm-2"},
			members: []string{"vm-1", "vm-3"},
		},
		{
			name:           "an empty view: every VM leaves",
			updates:        []types.ObjectUpdate{viewUpdate()},
			wantMembership: true, joined: []string{}, left: []string{"vm-1", "vm-3"},
			members: []string{},
		},
	}
	m := membership{}
	for _, step := range steps {
		d := m.diff(viewRef, step.updates)
		if d.membership != step.wantMembership {
			t.Errorf("%s: membership reported %v, want %v", step.name, d.membership, step.wantMembership)
		}
		if got := ids(d.joined); !slices.Equal(got, step.joined) {
			t.Errorf("%s: joined %v, want %v", step.name, got, step.joined)
		}
		if got := ids(d.left); !slices.Equal(got, step.left) {
			t.Errorf("%s: left %v, want %v", step.name, got, step.left)
		}
		if got := ids(slices.Collect(maps.Keys(m))); !slices.Equal(got, step.members) {
			t.Errorf("%s: members %v, want %v", step.name, got, step.members)
		}
	}
}

func newTestWatcher() *Watcher { return New(nil, types.ManagedObjectReference{}, func(string) {}) }

// joined is a VM as the join read returns it.
func joined(id, uuid, changeVersion string) types.ObjectContent {
	return types.ObjectContent{Obj: vmRef(id), PropSet: []types.DynamicProperty{
		{Name: "config.instanceUuid", Val: uuid},
		{Name: "config.changeVersion", Val: changeVersion},
		{Name: "config.hardware.numCPU", Val: int32(2)},
		{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
	}}
}

func stateUpdate(id string, changes ...types.PropertyChange) types.ObjectUpdate {
	return types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: vmRef(id), ChangeSet: changes}
}

func set(name string, val any) types.PropertyChange {
	return types.PropertyChange{Name: name, Op: types.PropertyChangeOpAssign, Val: val}
}

func TestJoinApplyDropKeepTheCacheByInstanceUUID(t *testing.T) {
	w := newTestWatcher()
	if changed := w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1"), joined("vm-2", "uuid-2", "1"), {Obj: vmRef("vm-gone")}}); !slices.Equal(changed, []string{"uuid-1", "uuid-2"}) {
		t.Errorf("changed %v", changed)
	}
	if w.Len() != 2 {
		t.Errorf("a VM destroyed before its join read is not held: len %d", w.Len())
	}
	changed, reconfigured := w.apply([]types.ObjectUpdate{stateUpdate("vm-1", set("runtime.powerState", types.VirtualMachinePowerStatePoweredOn))})
	if !slices.Equal(changed, []string{"uuid-1"}) || len(reconfigured) != 0 {
		t.Errorf("changed %v, reconfigured %v", changed, reconfigured)
	}
	got, ok := w.Get("uuid-1")
	if !ok || got.Ref != vmRef("vm-1") || got.PowerState != types.VirtualMachinePowerStatePoweredOn || got.NumCPU != 2 {
		t.Fatalf("Get(uuid-1) = %+v, %v", got, ok)
	}
	if changed := w.drop([]types.ManagedObjectReference{vmRef("vm-1")}); !slices.Equal(changed, []string{"uuid-1"}) {
		t.Errorf("a leaving VM's owner is told: changed %v", changed)
	}
	if _, ok := w.Get("uuid-1"); ok || w.Len() != 1 {
		t.Errorf("a VM that left is gone from the cache (len %d)", w.Len())
	}
	if n := testmetrics.Value(t, "supervisor_vmwatch_vms", nil); n != 1 {
		t.Errorf("/metrics shows %v VMs followed, want 1", n)
	}
}

func TestStateUpdatesNeverBringBackAVM(t *testing.T) {
	w := newTestWatcher()
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1")})
	w.Forget("uuid-1")
	// The state poll's report of the VM, made before it was destroyed,
	// arrives after: it must not bring the VM back, or its reconcile
	// would destroy it a second time.
	changed, _ := w.apply([]types.ObjectUpdate{
		{Kind: types.ObjectUpdateKindEnter, Obj: vmRef("vm-1"), ChangeSet: []types.PropertyChange{
			set("config.changeVersion", "1"), set("runtime.powerState", types.VirtualMachinePowerStatePoweredOn)}},
		stateUpdate("vm-1", set("guest.ipAddress", "127.0.0.1")),
		// Nor may a VM the membership poll has not read yet appear half known.
		stateUpdate("vm-9", set("runtime.powerState", types.VirtualMachinePowerStatePoweredOn)),
	})
	if len(changed) != 0 || w.Len() != 0 {
		t.Errorf("changed %v, len %d: a forgotten or unread VM came back", changed, w.Len())
	}
	if _, ok := w.Get("uuid-1"); ok {
		t.Error("a forgotten VM is found")
	}
}

func TestAStateLeaveIsNotALeave(t *testing.T) {
	w := newTestWatcher()
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1")})
	// vcsim reports a leave from the list view's filter whenever the list
	// changes; only the container view says who left.
	w.apply([]types.ObjectUpdate{{Kind: types.ObjectUpdateKindLeave, Obj: vmRef("vm-1")}})
	if _, ok := w.Get("uuid-1"); !ok {
		t.Error("a list-view leave dropped a VM still in the folder")
	}
}

// TestARepeatedReportWakesNoOne: vcsim reports every VM of the list view
// again, in full, whenever the list changes (a batch of clones joined);
// only a report that changes what the cache holds tells the VM's owner.
func TestARepeatedReportWakesNoOne(t *testing.T) {
	w := newTestWatcher()
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1"), joined("vm-2", "uuid-2", "1")})
	nic := types.GuestNicInfo{MacAddress: "00:50:56:00:00:01", IpAddress: []string{"10.0.0.5"}}
	changed, _ := w.apply([]types.ObjectUpdate{
		stateUpdate("vm-1", set("runtime.powerState", types.VirtualMachinePowerStatePoweredOn)),
		stateUpdate("vm-2", set("guest.ipAddress", "10.0.0.5"), set("guest.net", []types.GuestNicInfo{nic})),
	})
	if !slices.Equal(changed, []string{"uuid-1", "uuid-2"}) {
		t.Fatalf("changes are reported: changed %v", changed)
	}
	again := func(id string, changes ...types.PropertyChange) types.ObjectUpdate {
		return types.ObjectUpdate{Kind: types.ObjectUpdateKindEnter, Obj: vmRef(id), ChangeSet: changes}
	}
	changed, reconfigured := w.apply([]types.ObjectUpdate{
		again("vm-1", set("config.changeVersion", "1"), set("runtime.powerState", types.VirtualMachinePowerStatePoweredOn)),
		again("vm-2", set("config.changeVersion", "1"), set("runtime.powerState", types.VirtualMachinePowerStatePoweredOff),
			set("guest.ipAddress", "10.0.0.5"), set("guest.net", []types.GuestNicInfo{nic})),
	})
	if len(changed) != 0 || len(reconfigured) != 0 {
		t.Errorf("a report of what is held woke %v, reread %v", changed, reconfigured)
	}
	// A change to any followed property still wakes: a second address on
	// the NIC, a move to another host.
	nic2 := nic
	nic2.IpAddress = []string{"10.0.0.5", "fe80::1"}
	changed, _ = w.apply([]types.ObjectUpdate{
		again("vm-1", set("runtime.host", types.ManagedObjectReference{Type: "HostSystem", Value: "host-2"})),
		again("vm-2", set("guest.ipAddress", "10.0.0.5"), set("guest.net", []types.GuestNicInfo{nic2})),
	})
	if !slices.Equal(changed, []string{"uuid-1", "uuid-2"}) {
		t.Errorf("changed %v, want both", changed)
	}
	if got, _ := w.Get("uuid-2"); len(got.Net) != 1 || len(got.Net[0].IpAddress) != 2 {
		t.Errorf("the new address is held: %+v", got.Net)
	}
}

func TestAMovedChangeVersionRereadsTheConfig(t *testing.T) {
	w := newTestWatcher()
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1"), joined("vm-2", "uuid-2", "1")})
	_, reconfigured := w.apply([]types.ObjectUpdate{
		stateUpdate("vm-1", set("config.changeVersion", "2")),
		stateUpdate("vm-2", set("config.changeVersion", "1")), // the same: the list view's first report
	})
	if !slices.Equal(reconfigured, []types.ManagedObjectReference{vmRef("vm-1")}) {
		t.Fatalf("reconfigured %v, want vm-1 alone", reconfigured)
	}
	changed := w.merge([]types.ObjectContent{{Obj: vmRef("vm-1"), PropSet: []types.DynamicProperty{
		{Name: "config.hardware.numCPU", Val: int32(4)},
		{Name: "config.cpuAllocation", Val: types.ResourceAllocationInfo{Reservation: types.NewInt64(500)}},
	}}})
	got, _ := w.Get("uuid-1")
	if !slices.Equal(changed, []string{"uuid-1"}) || got.NumCPU != 4 || got.CPUReservation != 500 {
		t.Errorf("changed %v, VM %+v", changed, got)
	}
}

func TestVanishedAfterARestart(t *testing.T) {
	w := newTestWatcher()
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1"), joined("vm-2", "uuid-2", "1")})
	stale := w.reset()
	if w.Len() != 0 {
		t.Fatal("a restart starts from an empty cache")
	}
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1")})
	if gone := w.vanished(stale); !slices.Equal(gone, []string{"uuid-2"}) {
		t.Errorf("the VM destroyed while the watch was down must be reported, got %v", gone)
	}
}

func TestForgetAndObserve(t *testing.T) {
	w := newTestWatcher()
	w.join([]types.ObjectContent{joined("vm-1", "uuid-1", "1")})
	w.Observe("uuid-1", func(vm *mo.VirtualMachine) {
		vm.Config.CpuAllocation = &types.ResourceAllocationInfo{Reservation: types.NewInt64(500)}
	})
	if got, _ := w.Get("uuid-1"); got.CPUReservation != 500 {
		t.Errorf("an observed reservation is reported, got %d", got.CPUReservation)
	}
	w.Forget("uuid-1")
	if _, ok := w.Get("uuid-1"); ok {
		t.Error("a forgotten VM is not found")
	}
}
