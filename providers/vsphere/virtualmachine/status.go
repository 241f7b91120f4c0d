package virtualmachine

import (
	"context"
	"net/netip"

	"github.com/vmware/govmomi/vim25/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cluster-api/util/conditions"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// updateStatus copies what vCenter reports about the VM into status.
func (r *Reconciler) updateStatus(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) error {
	host := ""
	if found.Host != nil {
		var err error
		if host, err = r.vcenter.HostName(ctx, *found.Host); err != nil {
			return err
		}
	}
	setObservedStatus(vm, found, host)
	return nil
}

// setObservedStatus reports the VM found in vCenter, on the named host.
func setObservedStatus(vm *vmopv1.VirtualMachine, found vmwatch.VM, host string) {
	vm.Status.UniqueID = found.Ref.Value
	vm.Status.InstanceUUID = found.InstanceUUID
	vm.Status.BiosUUID = found.BiosUUID
	vm.Status.PowerState = powerState(found.PowerState)
	if host != "" {
		vm.Status.Host = host
	}
	vm.Status.Network = networkStatus(vm, found)
}

// setConditionReady sets a condition True: its input checked out.
func setConditionReady(vm *vmopv1.VirtualMachine, condition string) {
	conditions.Set(vm, metav1.Condition{Type: condition, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason})
}

// setInputErrorConditions reports bad input on its condition and on Ready.
func setInputErrorConditions(vm *vmopv1.VirtualMachine, bad *inputError) {
	conditions.Set(vm, metav1.Condition{Type: bad.condition, Status: metav1.ConditionFalse, Reason: bad.reason, Message: bad.message})
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse, Reason: bad.reason, Message: bad.message})
}

// setCreatedCondition: True once the VM exists and vCenter is done cloning
// it; False while vCenter clones it, or after vCenter refused or failed the
// clone (cloneErr).
func setCreatedCondition(vm *vmopv1.VirtualMachine, cloning bool, cloneErr error) {
	c := metav1.Condition{Type: vmopv1.VirtualMachineConditionCreated, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason}
	switch {
	case cloneErr != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, vmopv1.VirtualMachineCloneFailedReason, cloneErr.Error()
	case cloning:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, vmopv1.VirtualMachineCloningReason, "vCenter is cloning the VM"
	}
	conditions.Set(vm, c)
}

// setReadyCondition: Ready once vCenter is done cloning, the VM is in the
// asked power state and, when powered on with networking, reports its
// address.
func setReadyCondition(vm *vmopv1.VirtualMachine, cloning bool) {
	want := desiredPowerState(vm)
	ready := metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineReadyReason}
	switch {
	case cloning:
		ready.Status, ready.Reason = metav1.ConditionFalse, vmopv1.VirtualMachineCloningReason
		ready.Message = "vCenter is still cloning the VM"
	case vm.Status.PowerState != want:
		ready.Status, ready.Reason = metav1.ConditionFalse, vmopv1.VirtualMachinePowerStateChangingReason
		ready.Message = "the VM is " + string(vm.Status.PowerState) + ", spec.powerState asks for " + string(want)
	case want == vmopv1.VirtualMachinePowerStateOn && !networkDisabled(vm) &&
		(vm.Status.Network == nil || vm.Status.Network.PrimaryIP4 == ""):
		ready.Status, ready.Reason = metav1.ConditionFalse, vmopv1.VirtualMachineWaitingForIPReason
		ready.Message = "the VM is powered on and waiting for the guest to report its IP address"
	}
	conditions.Set(vm, ready)
}

func networkStatus(vm *vmopv1.VirtualMachine, found vmwatch.VM) *vmopv1.VirtualMachineNetworkStatus {
	if found.IPAddress == "" && len(found.Net) == 0 {
		return nil
	}
	st := &vmopv1.VirtualMachineNetworkStatus{}
	if a, err := netip.ParseAddr(found.IPAddress); err == nil {
		if a.Is4() {
			st.PrimaryIP4 = a.String()
		} else {
			st.PrimaryIP6 = a.String()
		}
	}
	for i, nic := range found.Net {
		ifc := vmopv1.VirtualMachineNetworkInterfaceStatus{IP: &vmopv1.VirtualMachineNetworkInterfaceIPStatus{MACAddr: nic.MacAddress}}
		if vm.Spec.Network != nil && i < len(vm.Spec.Network.Interfaces) {
			ifc.Name = vm.Spec.Network.Interfaces[i].Name
		}
		ips := nic.IpAddress
		if nic.IpConfig != nil {
			ips = nil
			for _, ip := range nic.IpConfig.IpAddress {
				ifc.IP.Addresses = append(ifc.IP.Addresses, vmopv1.VirtualMachineNetworkInterfaceIPAddrStatus{
					Address: netip.PrefixFrom(netip.MustParseAddr(ip.IpAddress), int(ip.PrefixLength)).String(),
					Origin:  ip.Origin,
				})
			}
		}
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil {
				ifc.IP.Addresses = append(ifc.IP.Addresses, vmopv1.VirtualMachineNetworkInterfaceIPAddrStatus{Address: netip.PrefixFrom(a, a.BitLen()).String()})
			}
		}
		st.Interfaces = append(st.Interfaces, ifc)
	}
	return st
}

func powerState(s types.VirtualMachinePowerState) vmopv1.VirtualMachinePowerState {
	switch s {
	case types.VirtualMachinePowerStatePoweredOn:
		return vmopv1.VirtualMachinePowerStateOn
	case types.VirtualMachinePowerStateSuspended:
		return vmopv1.VirtualMachinePowerStateSuspended
	}
	return vmopv1.VirtualMachinePowerStateOff
}

func desiredPowerState(vm *vmopv1.VirtualMachine) vmopv1.VirtualMachinePowerState {
	if vm.Spec.PowerState == "" {
		return vmopv1.VirtualMachinePowerStateOn
	}
	return vm.Spec.PowerState
}

func networkDisabled(vm *vmopv1.VirtualMachine) bool {
	return vm.Spec.Network != nil && vm.Spec.Network.Disabled
}
