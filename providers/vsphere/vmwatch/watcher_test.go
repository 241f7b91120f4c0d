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

func describe(updates []types.ObjectUpdate) []string {
	out := make([]string, 0, len(updates))
	for _, u := range updates {
		out = append(out, string(u.Kind)+" "+u.Obj.Value)
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
		vmUpdates      []string
		members        []string
	}{
		{
			name:           "first report: every VM joins",
			updates:        []types.ObjectUpdate{viewUpdate("vm-1", "vm-2")},
			wantMembership: true, joined: []string{"vm-1", "vm-2"}, left: []string{}, vmUpdates: []string{},
			members: []string{"vm-1", "vm-2"},
		},
		{
			name:    "property updates pass through; no membership report",
			updates: []types.ObjectUpdate{vmUpdate(types.ObjectUpdateKindEnter, "vm-1"), vmUpdate(types.ObjectUpdateKindModify, "vm-2")},
			joined:  []string{}, left: []string{}, vmUpdates: []string{"enter vm-1", "modify vm-2"},
			members: []string{"vm-1", "vm-2"},
		},
		{
			name:           "a clone joins while a VM changes",
			updates:        []types.ObjectUpdate{viewUpdate("vm-1", "vm-2", "vm-3"), vmUpdate(types.ObjectUpdateKindModify, "vm-1")},
			wantMembership: true, joined: []string{"vm-3"}, left: []string{}, vmUpdates: []string{"modify vm-1"},
			members: []string{"vm-1", "vm-2", "vm-3"},
		},
		{
			name:    "a list-view leave for a VM still in the container is not a leave",
			updates: []types.ObjectUpdate{vmUpdate(types.ObjectUpdateKindLeave, "vm-2")},
			joined:  []string{}, left: []string{}, vmUpdates: []string{},
			members: []string{"vm-1", "vm-2", "vm-3"},
		},
		{
			name:           "a destroyed VM leaves the view and the cache",
			updates:        []types.ObjectUpdate{viewUpdate("vm-1", "vm-3"), vmUpdate(types.ObjectUpdateKindLeave, "vm-2")},
			wantMembership: true, joined: []string{}, left: []string{"vm-2"},
			// Once for leaving the view, once as the list view reported it;
			// applying a leave twice is harmless.
			vmUpdates: []string{"leave vm-2", "leave vm-2"},
			members:   []string{"vm-1", "vm-3"},
		},
		{
			name:           "an empty view: every VM leaves",
			updates:        []types.ObjectUpdate{viewUpdate()},
			wantMembership: true, joined: []string{}, left: []string{"vm-1", "vm-3"}, vmUpdates: []string{"leave vm-1", "leave vm-3"},
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
		if got := describe(d.vmUpdates); !slices.Equal(got, step.vmUpdates) {
			t.Errorf("%s: VM updates %v, want %v", step.name, got, step.vmUpdates)
		}
		if got := ids(slices.Collect(maps.Keys(m))); !slices.Equal(got, step.members) {
			t.Errorf("%s: members %v, want %v", step.name, got, step.members)
		}
	}
}

func newTestWatcher() *Watcher { return New(nil, types.ManagedObjectReference{}, func(string) {}) }

func withConfig(id, uuid string) types.ObjectUpdate {
	return types.ObjectUpdate{Kind: types.ObjectUpdateKindEnter, Obj: vmRef(id), ChangeSet: []types.PropertyChange{
		{Name: "config.instanceUuid", Op: types.PropertyChangeOpAssign, Val: uuid},
		{Name: "runtime.powerState", Op: types.PropertyChangeOpAssign, Val: types.VirtualMachinePowerStatePoweredOn},
	}}
}

func TestApplyKeepsTheCacheByInstanceUUID(t *testing.T) {
	w := newTestWatcher()
	if changed := w.apply([]types.ObjectUpdate{withConfig("vm-1", "uuid-1"), withConfig("vm-2", "uuid-2")}); !slices.Equal(changed, []string{"uuid-1", "uuid-2"}) {
		t.Errorf("changed %v", changed)
	}
	got, ok := w.Get("uuid-1")
	if !ok || got.Ref != vmRef("vm-1") || got.PowerState != types.VirtualMachinePowerStatePoweredOn {
		t.Fatalf("Get(uuid-1) = %+v, %v", got, ok)
	}
	if changed := w.apply([]types.ObjectUpdate{{Kind: types.ObjectUpdateKindLeave, Obj: vmRef("vm-1")}}); !slices.Equal(changed, []string{"uuid-1"}) {
		t.Errorf("a leaving VM's owner is told: changed %v", changed)
	}
	if _, ok := w.Get("uuid-1"); ok || w.Len() != 1 {
		t.Errorf("a VM that left is gone from the cache (len %d)", w.Len())
	}
	if n := testmetrics.Value(t, "supervisor_vmwatch_vms", nil); n != 1 {
		t.Errorf("/metrics shows %v VMs followed, want 1", n)
	}
	// A VM reported before it has an instance UUID is cached but tells no one.
	if changed := w.apply([]types.ObjectUpdate{vmUpdate(types.ObjectUpdateKindEnter, "vm-3")}); len(changed) != 0 || w.Len() != 2 {
		t.Errorf("changed %v, len %d", changed, w.Len())
	}
}

func TestVanishedAfterARestart(t *testing.T) {
	w := newTestWatcher()
	w.apply([]types.ObjectUpdate{withConfig("vm-1", "uuid-1"), withConfig("vm-2", "uuid-2")})
	stale := w.reset()
	if w.Len() != 0 {
		t.Fatal("a restart starts from an empty cache")
	}
	w.put([]mo.VirtualMachine{{ManagedEntity: mo.ManagedEntity{ExtensibleManagedObject: mo.ExtensibleManagedObject{Self: vmRef("vm-1")}},
		Config: &types.VirtualMachineConfigInfo{InstanceUuid: "uuid-1"}}})
	if gone := w.vanished(stale); !slices.Equal(gone, []string{"uuid-2"}) {
		t.Errorf("the VM destroyed while the watch was down must be reported, got %v", gone)
	}
}

func TestForgetAndObserve(t *testing.T) {
	w := newTestWatcher()
	w.apply([]types.ObjectUpdate{withConfig("vm-1", "uuid-1")})
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
