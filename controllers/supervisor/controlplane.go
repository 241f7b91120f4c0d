package supervisor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// The supervisor's control-plane VMs are VirtualMachines of the VM service
// in the supervisor's system namespace, on a WorkloadNetwork made from the
// management network of the enable spec, so that vCenter shows them as it
// shows vSphere's own SupervisorControlPlaneVMs and the VM service's
// guarantees (found again by UUID, never cloned twice) hold for them too.
const (
	// ControlPlaneVMPrefix names the VMs: supervisorcontrolplanevm-1…3.
	ControlPlaneVMPrefix = "supervisorcontrolplanevm-"
	// ControlPlaneClassPrefix names their VirtualMachineClass, one per
	// size_hint (supervisor-control-plane-tiny).
	ControlPlaneClassPrefix = "supervisor-control-plane-"
	// NetworkRoleLabel tells the WorkloadNetworks a Supervisor makes apart:
	// workload networks, which vSphere Namespaces may use, and the
	// management network of the control-plane VMs, which they may not.
	NetworkRoleLabel      = "vsphere.opensupervisor.io/network-role"
	NetworkRoleWorkload   = "workload"
	NetworkRoleManagement = "management"
)

// Reasons of the ControlPlaneReady condition.
const (
	ReasonControlPlaneImageNotFound = "ControlPlaneImageNotFound"
	ReasonInvalidManagementNetwork  = "InvalidManagementNetwork"
	ReasonControlPlaneVMFailed      = "ControlPlaneVMFailed"
	ReasonWaitingForControlPlaneVMs = "WaitingForControlPlaneVMs"
)

// ManagementNetworkName is the WorkloadNetwork of a Supervisor's
// management network.
func ManagementNetworkName(sv *vspherev1.Supervisor) string { return sv.Name + "-management" }

// controlPlaneVMName is the i-th (1-based) control-plane VM's name.
func controlPlaneVMName(i int) string { return fmt.Sprintf("%s%d", ControlPlaneVMPrefix, i) }

// controlPlaneState is where the control-plane VMs stand.
type controlPlaneState struct {
	// floatingIP is the management endpoint.
	floatingIP netip.Addr
	// addresses of the VMs that run, by VM name.
	addresses []string
	// waiting says what is not there yet; empty once every VM runs.
	waiting string
}

// managementPlan splits the management range: its first address is the
// floating endpoint and the rest are the VMs' (5 addresses: 3 VMs and one
// spare for upgrades, as on vSphere).
func managementPlan(m vspherev1.ManagementNetwork) (floating netip.Addr, vms iprange.Range, prefix int32, err error) {
	if m.Mode != "STATICRANGE" || m.AddressRange == nil {
		return netip.Addr{}, iprange.Range{}, 0, fmt.Errorf("mode %q: only STATICRANGE with an address_range is supported", m.Mode)
	}
	ar := m.AddressRange
	first, err := netip.ParseAddr(ar.StartingAddress)
	if err != nil || !first.Is4() {
		return netip.Addr{}, iprange.Range{}, 0, fmt.Errorf("address_range.starting_address %q is not an IPv4 address", ar.StartingAddress)
	}
	if ar.AddressCount < vspherev1.ControlPlaneVMCount+1 {
		return netip.Addr{}, iprange.Range{}, 0, fmt.Errorf("address_range.address_count %d: the control plane needs a floating address and one per VM", ar.AddressCount)
	}
	all, err := iprange.FromCount(first, int(ar.AddressCount))
	if err != nil {
		return netip.Addr{}, iprange.Range{}, 0, fmt.Errorf("address_range: %w", err)
	}
	prefix, err = PrefixLength(ar.SubnetMask)
	if err != nil {
		return netip.Addr{}, iprange.Range{}, 0, fmt.Errorf("address_range.subnet_mask: %w", err)
	}
	return all.First, iprange.Range{First: all.First.Next(), Last: all.Last}, prefix, nil
}

// reconcileControlPlane makes the management WorkloadNetwork, the VM class
// of the size_hint and the control-plane VMs, and observes them.
func (r *Reconciler) reconcileControlPlane(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) error {
	cond := vspherev1.SupervisorControlPlaneReadyCondition
	add := func(reason, id, field, format string, args ...any) {
		obs.add(problem{condition: cond, reason: reason, id: id, field: field, message: fmt.Sprintf(format, args...)})
	}
	const base = "master_management_network"
	floating, vmRange, prefix, err := managementPlan(sv.Spec.ManagementNetwork)
	if err != nil {
		add(ReasonInvalidManagementNetwork, "vcenter.wcp.network.management.invalid", base, "%v", err)
		return nil
	}
	obs.controlPlane = &controlPlaneState{floatingIP: floating, waiting: "Waiting for the control-plane VMs to be created"}
	size, ok := vspherev1.ControlPlaneSizes[sv.Spec.SizeHint]
	if !ok {
		add(ReasonInvalidManagementNetwork, "vcenter.wcp.size.invalid", "size_hint", "want TINY, SMALL, MEDIUM or LARGE, not %q", sv.Spec.SizeHint)
		return nil
	}
	if obs.masterStorageClass == "" {
		// reconcileStorage said why.
		return nil
	}
	network, err := r.reconcileManagementNetwork(ctx, sv, vmRange, prefix, obs)
	if err != nil || network == "" {
		return err
	}
	image, err := r.controlPlaneImage(ctx)
	if err != nil {
		return err
	}
	if image == "" {
		what := "no node image is published yet"
		if r.ControlPlaneImage != "" {
			what = fmt.Sprintf("ClusterVirtualMachineImage %q does not exist", r.ControlPlaneImage)
		}
		add(ReasonControlPlaneImageNotFound, "vcenter.wcp.controlplane.image.notfound", "default_kubernetes_service_content_library",
			"the control-plane VMs cannot be created: %s; check that the content library holds node images", what)
		return nil
	}
	class := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{
		Namespace: vspherev1.SupervisorSystemNamespace, Name: ControlPlaneClassPrefix + strings.ToLower(sv.Spec.SizeHint),
	}}
	err = r.ensure(ctx, sv, class, func() {
		class.Spec.Hardware.Cpus = int64(size.CPUs)
		class.Spec.Hardware.Memory = *resource.NewQuantity(size.MemoryMiB<<20, resource.BinarySI)
	})
	if errors.Is(err, errTaken) {
		obs.add(taken(cond, "VirtualMachineClass", class.Namespace+"/"+class.Name, "size_hint"))
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to apply VirtualMachineClass %s: %w", class.Name, err)
	}
	vms := make([]*vmopv1.VirtualMachine, 0, vspherev1.ControlPlaneVMCount)
	for i := 1; i <= vspherev1.ControlPlaneVMCount; i++ {
		vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.SupervisorSystemNamespace, Name: controlPlaneVMName(i)}}
		err := r.ensure(ctx, sv, vm, func() {
			if vm.ResourceVersion == "" {
				// A running VM keeps its image; a new image takes an
				// upgrade, which is not built.
				vm.Spec.ImageName = image
			}
			vm.Spec.ClassName = class.Name
			vm.Spec.StorageClass = obs.masterStorageClass
			vm.Spec.PowerState = vmopv1.VirtualMachinePowerStateOn
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{
				Nameservers: append([]string(nil), sv.Spec.MasterDNS...),
				Interfaces:  []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0", Network: vmopv1.PartialObjectRef{Name: network}}},
			}
		})
		if errors.Is(err, errTaken) {
			obs.add(taken(cond, "VirtualMachine", vm.Namespace+"/"+vm.Name, "size_hint"))
			return nil
		}
		if err != nil {
			return fmt.Errorf("failed to apply control-plane VirtualMachine %s: %w", vm.Name, err)
		}
		vms = append(vms, vm)
	}
	observeControlPlaneVMs(vms, obs)
	return nil
}

// reconcileManagementNetwork makes the WorkloadNetwork the control-plane
// VMs attach to and returns its name ("" when the spec has a problem).
func (r *Reconciler) reconcileManagementNetwork(ctx context.Context, sv *vspherev1.Supervisor, vmRange iprange.Range, prefix int32, obs *observation) (string, error) {
	cond := vspherev1.SupervisorControlPlaneReadyCondition
	m := sv.Spec.ManagementNetwork
	if r.PortGroups == nil {
		obs.add(problem{condition: cond, reason: ReasonPortGroupNotFound, id: "vcenter.wcp.network.portgroup.notfound", field: "master_management_network.network",
			message: fmt.Sprintf("network %q cannot be looked up: the supervisor has no access to vCenter's networks", m.Network)})
		return "", nil
	}
	portGroup, found, err := r.PortGroups.PortGroupName(ctx, m.Network)
	if err != nil {
		return "", fmt.Errorf("failed to look up the management network %s: %w", m.Network, err)
	}
	if !found {
		obs.add(problem{condition: cond, reason: ReasonPortGroupNotFound, id: "vcenter.wcp.network.portgroup.notfound", field: "master_management_network.network",
			args: []string{m.Network}, message: fmt.Sprintf("network %q does not exist in vCenter", m.Network)})
		return "", nil
	}
	nw := &vspherev1.WorkloadNetwork{ObjectMeta: metav1.ObjectMeta{Name: ManagementNetworkName(sv)}}
	err = r.ensure(ctx, sv, nw, func() {
		if nw.Labels == nil {
			nw.Labels = map[string]string{}
		}
		nw.Labels[NetworkRoleLabel] = NetworkRoleManagement
		nw.Spec = vspherev1.WorkloadNetworkSpec{
			PortGroup: portGroup, AddressRanges: []string{vmRange.String()}, PrefixLength: prefix,
			Gateway: m.AddressRange.Gateway, Nameservers: append([]string(nil), sv.Spec.MasterDNS...),
		}
	})
	if errors.Is(err, errTaken) {
		obs.add(taken(cond, "WorkloadNetwork", nw.Name, "master_management_network"))
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to apply the management WorkloadNetwork %s: %w", nw.Name, err)
	}
	return nw.Name, nil
}

// controlPlaneImage is the ClusterVirtualMachineImage the control-plane
// VMs are cloned from: the configured one, or else the newest Kubernetes
// release published ("" when there is none).
func (r *Reconciler) controlPlaneImage(ctx context.Context) (string, error) {
	if r.ControlPlaneImage != "" {
		img := &vmopv1.ClusterVirtualMachineImage{}
		err := r.Client.Get(ctx, client.ObjectKey{Name: r.ControlPlaneImage}, img)
		if err != nil {
			return "", client.IgnoreNotFound(err)
		}
		return img.Name, nil
	}
	var list vmopv1.ClusterVirtualMachineImageList
	if err := r.Client.List(ctx, &list); err != nil {
		return "", fmt.Errorf("failed to list ClusterVirtualMachineImages: %w", err)
	}
	best, bestVersion := "", (*version.Version)(nil)
	for _, img := range list.Items {
		if img.Status.ProviderItemID == "" {
			continue
		}
		v, err := version.ParseGeneric(img.Status.ProductInfo.Version)
		if err != nil {
			continue
		}
		if bestVersion == nil || v.GreaterThan(bestVersion) || (v.EqualTo(bestVersion) && img.Name > best) {
			best, bestVersion = img.Name, v
		}
	}
	return best, nil
}

// observeControlPlaneVMs records the running VMs' addresses, and what is
// wrong or awaited with the others.
func observeControlPlaneVMs(vms []*vmopv1.VirtualMachine, obs *observation) {
	cp := obs.controlPlane
	var waiting []string
	for _, vm := range vms {
		if p, failed := vmProblem(vm); failed {
			obs.add(p)
			continue
		}
		ip := ""
		if vm.Status.Network != nil {
			ip = vm.Status.Network.PrimaryIP4
		}
		if meta.IsStatusConditionTrue(vm.Status.Conditions, vmopv1.VirtualMachineConditionReady) && ip != "" {
			cp.addresses = append(cp.addresses, ip)
			continue
		}
		waiting = append(waiting, vm.Name)
	}
	sort.Strings(cp.addresses)
	cp.waiting = ""
	if len(waiting) > 0 {
		cp.waiting = fmt.Sprintf("Waiting for control-plane VMs %s to run (%d of %d running)", strings.Join(waiting, ", "), len(cp.addresses), len(vms))
	}
}

// vmProblem is a control-plane VM's input condition that failed: the VM
// service cannot make it until the admin fixes something.
func vmProblem(vm *vmopv1.VirtualMachine) (problem, bool) {
	for _, t := range []string{
		vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineConditionImageReady,
		vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineConditionNetworkReady,
	} {
		c := meta.FindStatusCondition(vm.Status.Conditions, t)
		if c != nil && c.Status == metav1.ConditionFalse {
			return problem{
				condition: vspherev1.SupervisorControlPlaneReadyCondition, reason: ReasonControlPlaneVMFailed,
				id: "vcenter.wcp.master.vm.failed", args: []string{vm.Name, c.Message},
				message: fmt.Sprintf("control-plane VM %s cannot be created: %s", vm.Name, c.Message),
			}, true
		}
	}
	return problem{}, false
}
