package virtualmachine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/ipam"
)

// nicPlan is one NIC of the clone: its network and the portgroup backing.
type nicPlan struct {
	network *vspherev1.WorkloadNetwork
	backing types.BaseVirtualDeviceBackingInfo
}

// interfaces are the VM's interface specs; a VM that names none has one
// on the namespace's network, eth0.
func interfaces(vm *vmopv1.VirtualMachine) []vmopv1.VirtualMachineNetworkInterfaceSpec {
	if vm.Spec.Network != nil && len(vm.Spec.Network.Interfaces) > 0 {
		return vm.Spec.Network.Interfaces
	}
	return []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0"}}
}

// resolveNetworks finds every interface's WorkloadNetwork and portgroup:
// the first is the image's NIC re-backed, the others are NICs added to the
// clone.
func (r *Reconciler) resolveNetworks(ctx context.Context, vm *vmopv1.VirtualMachine) ([]nicPlan, error) {
	if networkDisabled(vm) {
		return nil, nil
	}
	allowed, err := r.namespaceNetworks(ctx, vm.Namespace)
	if err != nil {
		return nil, err
	}
	var nics []nicPlan
	for i, ifc := range interfaces(vm) {
		name, field := r.DefaultNetwork, "the default network"
		if len(allowed) > 0 {
			name, field = allowed[0], "the namespace's network"
		}
		if ifc.Network.Name != "" {
			name, field = ifc.Network.Name, fmt.Sprintf("spec.network.interfaces[%d].network.name", i)
			if len(allowed) > 0 && !slices.Contains(allowed, name) {
				return nil, badInput(vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineNetworkNotAllowedReason,
					"%s: WorkloadNetwork %q is not one of namespace %s's networks (%s)", field, name, vm.Namespace, strings.Join(allowed, ", "))
			}
		}
		nw := &vspherev1.WorkloadNetwork{}
		err = r.Client.Get(ctx, client.ObjectKey{Name: name}, nw)
		if apierrors.IsNotFound(err) {
			return nil, badInput(vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineNotFoundReason, "%s: WorkloadNetwork %q does not exist", field, name)
		}
		if err != nil {
			return nil, fmt.Errorf("failed to get WorkloadNetwork %s: %w", name, err)
		}
		backing, err := r.vcenter.NetworkBacking(ctx, nw.Spec.PortGroup)
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, badInput(vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineNetworkPortGroupNotFoundReason,
				"%s: WorkloadNetwork %q uses portgroup %q, which vCenter does not have", field, name, nw.Spec.PortGroup)
		}
		if err != nil {
			return nil, err
		}
		nics = append(nics, nicPlan{network: nw, backing: backing})
	}
	return nics, nil
}

// allocateAddresses takes each interface's address (the same one on every
// call) and says how the guest is to configure it; nil when the VM has no
// network. An interface with static addresses or DHCP takes none from its
// network's range.
func (r *Reconciler) allocateAddresses(ctx context.Context, vm *vmopv1.VirtualMachine, plan *createPlan) ([]*guestNetwork, error) {
	if plan.network == nil {
		setConditionReady(vm, vmopv1.VirtualMachineConditionNetworkReady)
		return nil, nil
	}
	nics := append([]nicPlan{{network: plan.network, backing: plan.backing}}, plan.extraNICs...)
	specs := interfaces(vm)
	out := make([]*guestNetwork, 0, len(nics))
	for i, nic := range nics {
		g := guestNetworkFor(vm, specs[i], nic.network)
		if len(specs[i].Addresses) == 0 && !specs[i].DHCP4 {
			addr, err := r.IPAM.Ensure(ctx, nic.network, ipam.Owner{Kind: "VirtualMachine", Namespace: vm.Namespace, Name: vm.Name, UID: string(vm.UID)})
			if errors.Is(err, ipam.ErrExhausted) {
				return nil, badInput(vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineNetworkNoFreeIPReason,
					"spec.network.interfaces[%d]: every address of WorkloadNetwork %q is in use", i, nic.network.Name)
			}
			if err != nil {
				return nil, err
			}
			g.Addresses = []netip.Prefix{netip.PrefixFrom(addr, int(nic.network.Spec.PrefixLength))}
		}
		out = append(out, g)
	}
	setConditionReady(vm, vmopv1.VirtualMachineConditionNetworkReady)
	return out, nil
}

// guestNetworkFor builds one interface's guest configuration: the spec's
// values, else the network's (gateway, nameservers) and the VM's global
// nameservers and search domains.
func guestNetworkFor(vm *vmopv1.VirtualMachine, spec vmopv1.VirtualMachineNetworkInterfaceSpec, nw *vspherev1.WorkloadNetwork) *guestNetwork {
	g := &guestNetwork{
		Interface:   spec.Name,
		DHCP4:       spec.DHCP4,
		DHCP6:       spec.DHCP6,
		Gateway4:    spec.Gateway4,
		Gateway6:    spec.Gateway6,
		MTU:         spec.MTU,
		Nameservers: spec.Nameservers,
		Search:      spec.SearchDomains,
		Routes:      spec.Routes,
	}
	if spec.GuestDeviceName != "" {
		g.Interface = spec.GuestDeviceName
	}
	if g.Interface == "" {
		g.Interface = "eth0"
	}
	for _, a := range spec.Addresses {
		if p, err := netip.ParsePrefix(a); err == nil { // the webhook refused any other
			g.Addresses = append(g.Addresses, p)
		}
	}
	if g.Gateway4 == "" && !spec.DHCP4 && len(spec.Addresses) == 0 {
		g.Gateway4 = nw.Spec.Gateway // the network's range comes with its gateway
	}
	ci := bootstrapCloudInit(vm)
	if len(g.Nameservers) == 0 && (ci == nil || ci.UseGlobalNameserversAsDefault == nil || *ci.UseGlobalNameserversAsDefault) {
		if vm.Spec.Network != nil && len(vm.Spec.Network.Nameservers) > 0 {
			g.Nameservers = vm.Spec.Network.Nameservers
		} else {
			g.Nameservers = nw.Spec.Nameservers
		}
	}
	if len(g.Search) == 0 && vm.Spec.Network != nil && (ci == nil || ci.UseGlobalSearchDomainsAsDefault == nil || *ci.UseGlobalSearchDomainsAsDefault) {
		g.Search = vm.Spec.Network.SearchDomains
	}
	return g
}

func bootstrapCloudInit(vm *vmopv1.VirtualMachine) *vmopv1.VirtualMachineBootstrapCloudInitSpec {
	if vm.Spec.Bootstrap == nil {
		return nil
	}
	return vm.Spec.Bootstrap.CloudInit
}

// nicChanges re-backs the image's NIC for the first interface and adds a
// NIC per further interface.
func nicChanges(plan *createPlan) (edit, add []types.BaseVirtualDeviceConfigSpec) {
	if plan.network == nil || plan.image.NIC == nil {
		return nil, nil
	}
	nic := copyDevice(plan.image.NIC) // the image's NIC is shared by every clone of it
	nic.GetVirtualDevice().Backing = plan.backing
	edit = []types.BaseVirtualDeviceConfigSpec{&types.VirtualDeviceConfigSpec{
		Operation: types.VirtualDeviceConfigSpecOperationEdit,
		Device:    nic,
	}}
	for i, extra := range plan.extraNICs {
		add = append(add, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd,
			Device: &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: types.VirtualEthernetCard{
				VirtualDevice: types.VirtualDevice{
					Key:         int32(-100 - i), // vCenter assigns the real key
					Backing:     extra.backing,
					Connectable: &types.VirtualDeviceConnectInfo{StartConnected: true, Connected: true, AllowGuestControl: true},
				},
				AddressType: string(types.VirtualEthernetCardMacTypeGenerated),
			}}},
		})
	}
	return edit, add
}
