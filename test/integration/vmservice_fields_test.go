package integration

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// createSecret makes a Secret of the test's namespace.
func createSecret(t *testing.T, h *harness.Harness, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: name}, StringData: data}
	if err := h.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func vAppProperty(vm mo.VirtualMachine, id string) (string, bool) {
	if vm.Config.VAppConfig == nil {
		return "", false
	}
	for _, p := range vm.Config.VAppConfig.GetVmConfigInfo().Property {
		if p.Id == id {
			return p.Value, true
		}
	}
	return "", false
}

func nics(vm mo.VirtualMachine) []types.BaseVirtualEthernetCard {
	var out []types.BaseVirtualEthernetCard
	for _, d := range vm.Config.Hardware.Device {
		if n, ok := d.(types.BaseVirtualEthernetCard); ok {
			out = append(out, n)
		}
	}
	return out
}

// TestVMOperatorV1alpha2Example: vm-operator's cloud-init example (inline
// cloudConfig with a user and files, one from a Secret), with vApp
// properties (the Ubuntu OVA's user-data and hostname), two interfaces and
// a bigger boot disk, shows all of it in vCenter.
func TestVMOperatorV1alpha2Example(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	createSecret(t, h, "my-vm-bootstrap-secret", map[string]string{"etc-my-secret": "s3cr3t", "passwd": "$6$hashed"})
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "my-vm"},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
			Network: &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{
				{Name: "eth0", Nameservers: []string{"1.1.1.1", "8.8.8.8"}, SearchDomains: []string{"my.domain.local"}},
				{Name: "eth1", Addresses: []string{"192.168.100.5/24"}, Gateway4: "None", MTU: ptr.To[int64](9000),
					Routes: []vmopv1.VirtualMachineNetworkRouteSpec{{To: "10.10.0.0/16", Via: "192.168.100.1"}}},
			}},
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{
				CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{CloudConfig: &vmopv1.CloudConfig{
					DefaultUserEnabled: true,
					Users: []vmopv1.CloudConfigUser{{Name: "akutz", PrimaryGroup: ptr.To("akutz"), Groups: []string{"users"},
						Passwd: &vmopv1.SecretKeySelector{Name: "my-vm-bootstrap-secret", Key: "passwd"}}},
					RunCmd: []byte(`["ls /", ["ls", "-a", "-l", "/"]]`),
					WriteFiles: []vmopv1.CloudConfigWriteFile{
						{Path: "/etc/my-plaintext", Content: []byte(`"Hello, world.\n"`)},
						{Path: "/etc/my-secret", Content: []byte(`{"name":"my-vm-bootstrap-secret","key":"etc-my-secret"}`)},
					},
				}},
				VAppConfig: &vmopv1.VirtualMachineBootstrapVAppConfigSpec{Properties: []vmopv1.KeyValueOrSecretKeySelectorPair{
					{Key: "hostname", Value: vmopv1.ValueOrSecretKeySelector{Value: ptr.To("my-vm")}},
					{Key: "password", Value: vmopv1.ValueOrSecretKeySelector{From: &vmopv1.SecretKeySelector{Name: "my-vm-bootstrap-secret", Key: "etc-my-secret"}}},
				}},
			},
			Advanced: &vmopv1.VirtualMachineAdvancedSpec{BootDiskCapacity: ptr.To(resource.MustParse("50Gi"))},
		},
	}
	if err := h.Client.Create(ctx, vm); err != nil {
		t.Fatal(err)
	}
	vm = waitReady(h, vm)
	got := vcVMs(t, h, "my-vm")[0]

	ud := decode(t, extraConfig(got, "guestinfo.userdata"))
	for _, want := range []string{"#cloud-config", "- default", "name: akutz", "passwd: $6$hashed", "content: s3cr3t", "path: /etc/my-secret", "- ls /"} {
		if !strings.Contains(ud, want) {
			t.Errorf("guestinfo.userdata lacks %q:\n%s", want, ud)
		}
	}
	md := decode(t, extraConfig(got, "guestinfo.metadata"))
	for _, want := range []string{"eth1:", "192.168.100.5/24", "mtu: 9000", "to: 10.10.0.0/16", "1.1.1.1", "my.domain.local", vm.Status.Network.PrimaryIP4 + "/16"} {
		if !strings.Contains(md, want) {
			t.Errorf("guestinfo.metadata lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "gateway4: None") {
		t.Errorf("gateway4 None must leave the gateway out:\n%s", md)
	}
	if n := nics(got); len(n) != 2 {
		t.Errorf("want two NICs in vCenter, got %d", len(n))
	}
	if v, ok := vAppProperty(got, "hostname"); !ok || v != "my-vm" {
		t.Errorf("vApp property hostname = %q, %v", v, ok)
	}
	if v, _ := vAppProperty(got, "password"); v != "s3cr3t" {
		t.Errorf("vApp property password = %q, want the Secret's", v)
	}
	var disk *types.VirtualDisk
	for _, d := range got.Config.Hardware.Device {
		if vd, ok := d.(*types.VirtualDisk); ok && (disk == nil || vd.Key < disk.Key) {
			disk = vd
		}
	}
	if disk == nil || disk.CapacityInBytes != 50*1024*1024*1024 {
		t.Errorf("want the boot disk grown to 50Gi, got %+v", disk)
	}
	if got.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("powered %s", got.Runtime.PowerState)
	}
}

// TestVMOperatorSysprepExample: vm-operator's sysprep example becomes
// vCenter guest customization, applied at the first power-on.
func TestVMOperatorSysprepExample(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	createSecret(t, h, "my-vm-bootstrap-secret", map[string]string{"password": "p", "domainAdminPassword": "d", "windowsProductKey": "k"})
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "win-vm"},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
			Network: &vmopv1.VirtualMachineNetworkSpec{Nameservers: []string{"1.1.1.1"}, SearchDomains: []string{"my.domain.local"}},
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{Sysprep: &vmopv1.VirtualMachineBootstrapSysprepSpec{Sysprep: &vmopv1.Sysprep{
				GUIRunOnce:     vmopv1.SysprepGUIRunOnce{Commands: []string{"dir C:", "echo Hello"}},
				GUIUnattended:  &vmopv1.SysprepGUIUnattended{AutoLogon: true, Password: &vmopv1.SecretKeySelector{Name: "my-vm-bootstrap-secret", Key: "password"}, TimeZone: 85},
				Identification: &vmopv1.SysprepIdentification{DomainAdmin: "global-admin", JoinDomain: "my-ad.local", DomainAdminPassword: &vmopv1.SecretKeySelector{Name: "my-vm-bootstrap-secret", Key: "domainAdminPassword"}},
				UserData:       &vmopv1.SysprepUserData{FullName: "Andrew Kutz", OrgName: "VMware", ProductID: &vmopv1.SecretKeySelector{Name: "my-vm-bootstrap-secret", Key: "windowsProductKey"}},
			}}},
		},
	}
	if err := h.Client.Create(ctx, vm); err != nil {
		t.Fatal(err)
	}
	vm = waitReady(h, vm)
	got := vcVMs(t, h, "win-vm")[0]
	ci := got.Guest.CustomizationInfo
	if ci == nil || ci.CustomizationStatus != string(types.GuestInfoCustomizationStatusTOOLSDEPLOYPKG_SUCCEEDED) {
		t.Fatalf("want the guest customized by vCenter, got %+v", ci)
	}
	if got.Guest.HostName != "win-vm" {
		t.Errorf("customization named the guest %q", got.Guest.HostName)
	}
	if got.Guest.IpAddress != vm.Status.Network.PrimaryIP4 {
		t.Errorf("customization gave the guest %q, the VM's address is %q", got.Guest.IpAddress, vm.Status.Network.PrimaryIP4)
	}
}

// TestPowerModesRestartAndReadiness: powerOffMode Soft shuts the guest
// down, nextRestartTime "now" restarts once, and the readiness probe
// decides Ready.
func TestPowerModesRestartAndReadiness(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	vm := waitReady(h, newVM(t, h, "node-0", "best-effort-xsmall"))

	// A guestInfo probe on a key nobody set: Ready goes False, naming it.
	patch := func(edit func(*vmopv1.VirtualMachine)) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur := &vmopv1.VirtualMachine{}
			if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), cur); err != nil {
				return err
			}
			edit(cur)
			return h.Client.Update(ctx, cur)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	patch(func(v *vmopv1.VirtualMachine) {
		v.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{GuestInfo: []vmopv1.GuestInfoAction{{Key: "ready-flag", Value: "^yes$"}}, PeriodSeconds: 1}
	})
	waitCondition(t, h, vm, vmopv1.VirtualMachineConditionReady, metav1.ConditionFalse, "spec.readinessProbe: guestInfo[0]: guestinfo.ready-flag is not set")

	// A TCP probe on a port that listens: Ready again.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	patch(func(v *vmopv1.VirtualMachine) {
		v.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{TCPSocket: &vmopv1.TCPSocketAction{Host: "127.0.0.1", Port: intstr.FromInt(port)}, PeriodSeconds: 1}
	})
	waitCondition(t, h, vm, vmopv1.VirtualMachineConditionReady, metav1.ConditionTrue, "")

	// Restart now: status.lastRestartTime records the request.
	before := time.Now().Add(-time.Second)
	patch(func(v *vmopv1.VirtualMachine) { v.Spec.NextRestartTime = "now"; v.Spec.RestartMode = "TrySoft" })
	cur := &vmopv1.VirtualMachine{}
	wait.For(t, harness.Timeout, "restart recorded", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), cur); err != nil {
			return false, err
		}
		if _, err := time.Parse(time.RFC3339Nano, cur.Spec.NextRestartTime); err != nil {
			return false, errString("nextRestartTime is " + cur.Spec.NextRestartTime)
		}
		return cur.Status.LastRestartTime != nil && cur.Status.LastRestartTime.After(before), errString("no lastRestartTime yet")
	})

	// Soft power-off: the guest shuts down.
	patch(func(v *vmopv1.VirtualMachine) {
		v.Spec.PowerState = vmopv1.VirtualMachinePowerStateOff
		v.Spec.PowerOffMode = "Soft"
		v.Spec.ReadinessProbe = nil
	})
	wait.For(t, harness.Timeout, "VM powered off", func() (bool, error) {
		got := vcVMs(t, h, "node-0")[0]
		return got.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOff, errString("power state " + string(got.Runtime.PowerState))
	})
	// And suspended once on again.
	patch(func(v *vmopv1.VirtualMachine) { v.Spec.PowerState = vmopv1.VirtualMachinePowerStateOn })
	wait.For(t, harness.Timeout, "VM powered on", func() (bool, error) {
		got := vcVMs(t, h, "node-0")[0]
		return got.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn, errString("power state " + string(got.Runtime.PowerState))
	})
	patch(func(v *vmopv1.VirtualMachine) { v.Spec.PowerState = vmopv1.VirtualMachinePowerStateSuspended })
	wait.For(t, harness.Timeout, "VM suspended", func() (bool, error) {
		got := vcVMs(t, h, "node-0")[0]
		return got.Runtime.PowerState == types.VirtualMachinePowerStateSuspended, errString("power state " + string(got.Runtime.PowerState))
	})
}

// TestVMServiceRefusesNamingTheField: what the VM service would not act on
// is refused by the API server, with the field's path.
func TestVMServiceRefusesNamingTheField(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "resolved", Annotations: map[string]string{"run.tanzu.vmware.com/resolve-os-image": "os-name=ubuntu"}},
		Spec:       vmopv1.VirtualMachineSpec{ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass},
	}
	err := h.Client.Create(ctx, vm)
	if err == nil || !strings.Contains(err.Error(), "metadata.annotations[run.tanzu.vmware.com/resolve-os-image]") {
		t.Errorf("want the annotation refused by name, got %v", err)
	}
	class := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "gpu"}}
	class.Spec.Hardware.Cpus, class.Spec.Hardware.Memory = 2, resource.MustParse("4Gi")
	class.Spec.Hardware.Devices.VGPUDevices = []vmopv1.VGPUDevice{{ProfileName: "grid_p40-1q"}}
	if err := h.Client.Create(ctx, class); err == nil || !strings.Contains(err.Error(), "spec.hardware.devices") {
		t.Errorf("want vGPU devices refused by name, got %v", err)
	}
	class.Spec.Hardware.Devices = vmopv1.VirtualDevices{}
	class.Spec.ConfigSpec = []byte(`{"_typeName":"VirtualMachineConfigSpec","numCPUs":8}`)
	if err := h.Client.Create(ctx, class); err == nil || !strings.Contains(err.Error(), "spec.configSpec.numCPUs") {
		t.Errorf("want configSpec.numCPUs refused by name, got %v", err)
	}
	vm = &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "eleven"},
		Spec:       vmopv1.VirtualMachineSpec{ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass, Network: &vmopv1.VirtualMachineNetworkSpec{}},
	}
	for i := range 11 {
		vm.Spec.Network.Interfaces = append(vm.Spec.Network.Interfaces, vmopv1.VirtualMachineNetworkInterfaceSpec{Name: "eth" + strconv.Itoa(i), DHCP4: true})
	}
	if err := h.Client.Create(ctx, vm); err == nil || !strings.Contains(err.Error(), "spec.network.interfaces") {
		t.Errorf("want an eleventh interface refused, got %v", err)
	}
}

// TestClassConfigSpecReachesTheClone: a class's configSpec extraConfig is
// on every clone of the class.
func TestClassConfigSpecReachesTheClone(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	class := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "tuned"}}
	class.Spec.Hardware.Cpus, class.Spec.Hardware.Memory = 1, resource.MustParse("1Gi")
	class.Spec.ConfigSpec = []byte(`{"_typeName":"VirtualMachineConfigSpec","annotation":"tuned class","extraConfig":[{"_typeName":"OptionValue","key":"tuned.setting","value":{"_typeName":"string","_value":"on"}}]}`)
	if err := h.Client.Create(ctx, class); err != nil {
		t.Fatal(err)
	}
	waitReady(h, newVM(t, h, "tuned-0", "tuned"))
	got := vcVMs(t, h, "tuned-0")[0]
	if v := extraConfig(got, "tuned.setting"); v != "on" {
		t.Errorf("want the class's extraConfig on the clone, got %q", v)
	}
}

// waitCondition waits for a condition's status and, if given, a message
// containing msg.
func waitCondition(t *testing.T, h *harness.Harness, vm *vmopv1.VirtualMachine, typ string, status metav1.ConditionStatus, msg string) {
	t.Helper()
	wait.For(t, harness.Timeout, typ+"="+string(status), func() (bool, error) {
		cur := &vmopv1.VirtualMachine{}
		if err := h.Client.Get(context.Background(), client.ObjectKeyFromObject(vm), cur); err != nil {
			return false, err
		}
		for _, c := range cur.Status.Conditions {
			if c.Type == typ {
				return c.Status == status && strings.Contains(c.Message, msg), errString(string(c.Status) + " " + c.Reason + ": " + c.Message)
			}
		}
		return false, errString("no condition " + typ)
	})
}

// TestMinHardwareVersionUpgradesBeforeFirstBoot: a VM asking for newer
// virtual hardware than its image's is upgraded before it powers on.
func TestMinHardwareVersionUpgradesBeforeFirstBoot(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "hw"},
		Spec:       vmopv1.VirtualMachineSpec{ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass, MinHardwareVersion: 17},
	}
	if err := h.Client.Create(ctx, vm); err != nil {
		t.Fatal(err)
	}
	waitReady(h, vm)
	got := vcVMs(t, h, "hw")[0]
	if v, err := types.ParseHardwareVersion(got.Config.Version); err != nil || v < 17 {
		t.Errorf("want virtual hardware vmx-17 or newer, got %q", got.Config.Version)
	}
}
