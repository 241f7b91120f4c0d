package virtualmachine

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/apimachinery/pkg/api/resource"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func TestCloneSpec(t *testing.T) {
	class := &vmopv1.VirtualMachineClass{Spec: vmopv1.VirtualMachineClassSpec{
		Hardware: vmopv1.VirtualMachineClassHardware{Cpus: 4, Memory: resource.MustParse("8Gi")},
	}}
	image := newFakeVCenter().images[fakeTemplateID]
	nw := &vspherev1.WorkloadNetwork{Spec: vspherev1.WorkloadNetworkSpec{PrefixLength: 24}}
	backing := &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: "workload"}}
	addr := []*guestNetwork{{Interface: "eth0", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}}}

	cases := []struct {
		name    string
		vm      vmopv1.VirtualMachineSpec
		network bool
		check   func(t *testing.T, spec *types.VirtualMachineCloneSpec, metadata string)
	}{
		{name: "networked, powered on by default", network: true, check: func(t *testing.T, spec *types.VirtualMachineCloneSpec, md string) {
			if !spec.PowerOn || spec.Config.NumCPUs != 4 || spec.Config.MemoryMB != 8192 {
				t.Errorf("power on %v, cpus %d, memory %d", spec.PowerOn, spec.Config.NumCPUs, spec.Config.MemoryMB)
			}
			if len(spec.Location.DeviceChange) != 1 {
				t.Fatalf("the image's NIC is re-backed: %v", spec.Location.DeviceChange)
			}
			nic := spec.Location.DeviceChange[0].GetVirtualDeviceConfigSpec()
			if nic.Operation != types.VirtualDeviceConfigSpecOperationEdit || nic.Device.GetVirtualDevice().Backing != backing {
				t.Errorf("NIC change: %+v", nic)
			}
			if !strings.Contains(md, "10.0.0.2/24") || !strings.Contains(md, "local-hostname: web") {
				t.Errorf("metadata:\n%s", md)
			}
		}},
		{name: "powered off, own host name", network: true,
			vm: vmopv1.VirtualMachineSpec{PowerState: vmopv1.VirtualMachinePowerStateOff, Network: &vmopv1.VirtualMachineNetworkSpec{HostName: "frontend"}},
			check: func(t *testing.T, spec *types.VirtualMachineCloneSpec, md string) {
				if spec.PowerOn {
					t.Error("a VM asked off is not powered on by the clone")
				}
				if !strings.Contains(md, "local-hostname: frontend") {
					t.Errorf("metadata:\n%s", md)
				}
			}},
		{name: "no network", vm: vmopv1.VirtualMachineSpec{Network: &vmopv1.VirtualMachineNetworkSpec{Disabled: true}},
			check: func(t *testing.T, spec *types.VirtualMachineCloneSpec, md string) {
				if len(spec.Location.DeviceChange) != 0 || strings.Contains(md, "network") {
					t.Errorf("a VM without networking gets no NIC change and no network config: %v\n%s", spec.Location.DeviceChange, md)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vm := webVM()
			vm.Spec = tc.vm
			plan := &createPlan{class: class, image: image, datastore: fakeDatastore}
			var g []*guestNetwork
			if tc.network {
				plan.network, plan.backing, g = nw, backing, addr
			}
			spec, err := cloneSpec(vm, plan, g, 1000, 2048)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Config.InstanceUuid != testUID || *spec.Config.CpuAllocation.Reservation != 1000 || *spec.Config.MemoryAllocation.Reservation != 2048 {
				t.Errorf("uuid %s, reservations %d MHz %d MiB", spec.Config.InstanceUuid, *spec.Config.CpuAllocation.Reservation, *spec.Config.MemoryAllocation.Reservation)
			}
			if image.NIC.GetVirtualDevice().Backing != nil {
				t.Error("the image's shared NIC was changed")
			}
			tc.check(t, spec, guestinfoValue(t, spec.Config.ExtraConfig, guestinfoMetadata))
		})
	}
}

func TestCustomizationMapsEveryNIC(t *testing.T) {
	class := &vmopv1.VirtualMachineClass{Spec: vmopv1.VirtualMachineClassSpec{
		Hardware: vmopv1.VirtualMachineClassHardware{Cpus: 1, Memory: resource.MustParse("1Gi")},
	}}
	image := newFakeVCenter().images[fakeTemplateID]
	custom := &types.CustomizationSpec{Identity: &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: "web"}}}
	nws := []*guestNetwork{
		{Interface: "eth0", Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")}, Gateway4: "10.0.0.1"},
		{Interface: "eth1", DHCP4: true},
	}
	plan := &createPlan{class: class, image: image, datastore: fakeDatastore, customization: custom,
		network: &vspherev1.WorkloadNetwork{}, extraNICs: []nicPlan{{network: &vspherev1.WorkloadNetwork{}}}}
	spec, err := cloneSpec(webVM(), plan, nws, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := spec.Customization.NicSettingMap
	if len(m) != 2 {
		t.Fatalf("want one adapter mapping per NIC, got %d", len(m))
	}
	if ip, ok := m[0].Adapter.Ip.(*types.CustomizationFixedIp); !ok || ip.IpAddress != "10.0.0.2" || m[0].Adapter.SubnetMask != "255.255.255.0" || m[0].Adapter.Gateway[0] != "10.0.0.1" {
		t.Errorf("eth0 mapping %+v", m[0].Adapter)
	}
	if _, ok := m[1].Adapter.Ip.(*types.CustomizationDhcpIpGenerator); !ok {
		t.Errorf("eth1 takes DHCP, got %+v", m[1].Adapter.Ip)
	}
	if len(spec.Config.DeviceChange) != 1 {
		t.Errorf("want the second NIC added, got %d device changes", len(spec.Config.DeviceChange))
	}
	if len(custom.NicSettingMap) != 0 {
		t.Error("the plan's customization was changed")
	}

	// No networking: the image's NIC still gets a mapping.
	plan.network, plan.extraNICs = nil, nil
	vm := webVM()
	vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Disabled: true}
	if spec, err = cloneSpec(vm, plan, nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	if len(spec.Customization.NicSettingMap) != 1 {
		t.Errorf("want the image's NIC mapped, got %d", len(spec.Customization.NicSettingMap))
	}
}
