package virtualmachine

import (
	"errors"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cluster-api/util/conditions"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// checkCondition compares a VM's condition of want's type with want,
// ignoring LastTransitionTime.
func checkCondition(t *testing.T, vm *vmopv1.VirtualMachine, want metav1.Condition) {
	t.Helper()
	got := conditions.Get(vm, want.Type)
	if got == nil {
		t.Fatalf("no %s condition", want.Type)
	}
	g := *got
	g.LastTransitionTime = metav1.Time{}
	if g != want {
		t.Errorf("condition %s:\n got %+v\nwant %+v", want.Type, g, want)
	}
}

func TestSetReadyCondition(t *testing.T) {
	const ready = vmopv1.VirtualMachineConditionReady
	withIP := &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: "10.0.0.2"}
	cases := []struct {
		name     string
		spec     vmopv1.VirtualMachinePowerState
		disabled bool
		power    vmopv1.VirtualMachinePowerState
		network  *vmopv1.VirtualMachineNetworkStatus
		cloning  bool
		want     metav1.Condition
	}{
		{name: "powered on with its address", power: vmopv1.VirtualMachinePowerStateOn, network: withIP,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason}},
		{name: "powered off as asked needs no address", spec: vmopv1.VirtualMachinePowerStateOff, power: vmopv1.VirtualMachinePowerStateOff,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason}},
		{name: "powered on without networking needs no address", disabled: true, power: vmopv1.VirtualMachinePowerStateOn,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason}},
		{name: "powered on, guest has not reported its address", power: vmopv1.VirtualMachinePowerStateOn,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachineWaitingForIPReason,
				Message: "the VM is powered on and waiting for the guest to report its IP address"}},
		{name: "only an IPv6 address yet", power: vmopv1.VirtualMachinePowerStateOn, network: &vmopv1.VirtualMachineNetworkStatus{PrimaryIP6: "fd00::2"},
			want: metav1.Condition{Type: ready, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachineWaitingForIPReason,
				Message: "the VM is powered on and waiting for the guest to report its IP address"}},
		{name: "off, asked on (the default)", power: vmopv1.VirtualMachinePowerStateOff,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachinePowerStateChangingReason,
				Message: "the VM is PoweredOff, spec.powerState asks for PoweredOn"}},
		{name: "on, asked off", spec: vmopv1.VirtualMachinePowerStateOff, power: vmopv1.VirtualMachinePowerStateOn, network: withIP,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachinePowerStateChangingReason,
				Message: "the VM is PoweredOn, spec.powerState asks for PoweredOff"}},
		{name: "cloning outranks everything", power: vmopv1.VirtualMachinePowerStateOn, network: withIP, cloning: true,
			want: metav1.Condition{Type: ready, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachineCloningReason,
				Message: "vCenter is still cloning the VM"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vm := &vmopv1.VirtualMachine{
				Spec:   vmopv1.VirtualMachineSpec{PowerState: tc.spec},
				Status: vmopv1.VirtualMachineStatus{PowerState: tc.power, Network: tc.network},
			}
			if tc.disabled {
				vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Disabled: true}
			}
			setReadyCondition(vm, tc.cloning)
			checkCondition(t, vm, tc.want)
		})
	}
}

func TestSetCreatedCondition(t *testing.T) {
	const created = vmopv1.VirtualMachineConditionCreated
	cases := []struct {
		name     string
		cloning  bool
		cloneErr error
		want     metav1.Condition
	}{
		{name: "clone done",
			want: metav1.Condition{Type: created, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason}},
		{name: "cloning", cloning: true,
			want: metav1.Condition{Type: created, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachineCloningReason, Message: "vCenter is cloning the VM"}},
		{name: "clone failed", cloneErr: errors.New("insufficient disk space"),
			want: metav1.Condition{Type: created, Status: metav1.ConditionFalse, Reason: vmopv1.VirtualMachineCloneFailedReason, Message: "insufficient disk space"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case starts from the opposite state, so a condition
			// that is not overwritten shows.
			vm := &vmopv1.VirtualMachine{}
			conditions.Set(vm, metav1.Condition{Type: created, Status: metav1.ConditionUnknown, Reason: "Stale", Message: "stale"})
			setCreatedCondition(vm, tc.cloning, tc.cloneErr)
			checkCondition(t, vm, tc.want)
		})
	}
}

func TestSetInputErrorConditions(t *testing.T) {
	cases := []struct {
		name string
		bad  error
	}{
		{"missing class", badInput(vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineNotFoundReason, "spec.className: VirtualMachineClass %q does not exist", "huge")},
		{"no free address", badInput(vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineNetworkNoFreeIPReason, "spec.network: every address is in use")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vm := &vmopv1.VirtualMachine{}
			setConditionReady(vm, vmopv1.VirtualMachineConditionReady)
			var bad *inputError
			if !errors.As(tc.bad, &bad) {
				t.Fatal("badInput must make an inputError")
			}
			setInputErrorConditions(vm, bad)
			// The input's own condition and Ready both say what is wrong.
			for _, typ := range []string{bad.condition, vmopv1.VirtualMachineConditionReady} {
				checkCondition(t, vm, metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: bad.reason, Message: bad.message})
			}
		})
	}
}

func TestSetConditionReady(t *testing.T) {
	vm := &vmopv1.VirtualMachine{}
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionClassReady, Status: metav1.ConditionFalse,
		Reason: vmopv1.VirtualMachineNotFoundReason, Message: "spec.className: missing"})
	setConditionReady(vm, vmopv1.VirtualMachineConditionClassReady)
	checkCondition(t, vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionClassReady, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason})
}

func TestSetObservedStatus(t *testing.T) {
	vm := &vmopv1.VirtualMachine{Spec: vmopv1.VirtualMachineSpec{Network: &vmopv1.VirtualMachineNetworkSpec{
		Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0"}},
	}}}
	vm.Status.Host = "esx-old"
	found := vmwatch.VM{
		Ref: types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-7"}, InstanceUUID: "iuuid", BiosUUID: "buuid",
		PowerState: types.VirtualMachinePowerStateSuspended, IPAddress: "10.0.0.2",
		Net: []types.GuestNicInfo{{MacAddress: "00:50:56:00:00:01", IpAddress: []string{"10.0.0.2"}}},
	}
	setObservedStatus(vm, found, "")
	st := vm.Status
	if st.UniqueID != "vm-7" || st.InstanceUUID != "iuuid" || st.BiosUUID != "buuid" || st.PowerState != vmopv1.VirtualMachinePowerStateSuspended {
		t.Errorf("identity and power: %+v", st)
	}
	if st.Host != "esx-old" {
		t.Errorf("an unknown host keeps the last one reported, got %q", st.Host)
	}
	if st.Network == nil || st.Network.PrimaryIP4 != "10.0.0.2" || len(st.Network.Interfaces) != 1 ||
		st.Network.Interfaces[0].Name != "eth0" || st.Network.Interfaces[0].IP.Addresses[0].Address != "10.0.0.2/32" {
		t.Errorf("network: %+v", st.Network)
	}
	setObservedStatus(vm, vmwatch.VM{Ref: found.Ref}, "esx-1")
	if vm.Status.Host != "esx-1" || vm.Status.Network != nil || vm.Status.PowerState != vmopv1.VirtualMachinePowerStateOff {
		t.Errorf("a VM that moved and lost its guest info: host %q, network %+v, power %q", vm.Status.Host, vm.Status.Network, vm.Status.PowerState)
	}
}
