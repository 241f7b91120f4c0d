package vmservice

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	vmopv1alpha1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

func TestValidateVirtualMachineNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(vm *vmopv1.VirtualMachine)
		field string // "" means valid
	}{
		{name: "plain", edit: func(*vmopv1.VirtualMachine) {}},
		{name: "resolve-os-image", field: "metadata.annotations[run.tanzu.vmware.com/resolve-os-image]", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Annotations = map[string]string{ResolveOSImageAnnotation: "os-name=ubuntu"}
		}},
		{name: "cloudInit with sysprep", field: "spec.bootstrap.cloudInit", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Bootstrap = &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{}, Sysprep: &vmopv1.VirtualMachineBootstrapSysprepSpec{RawSysprep: &vmopv1.SecretKeySelector{Name: "s", Key: "k"}}}
		}},
		{name: "sysprep without content", field: "spec.bootstrap.sysprep", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Bootstrap = &vmopv1.VirtualMachineBootstrapSpec{Sysprep: &vmopv1.VirtualMachineBootstrapSysprepSpec{}}
		}},
		{name: "bad address", field: "spec.network.interfaces[1].addresses[0]", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{
				{Name: "eth0"}, {Name: "eth1", Addresses: []string{"10.0.0.5"}},
			}}
		}},
		{name: "two interfaces from one range", field: "spec.network.interfaces[1].addresses", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0"}, {Name: "eth1"}}}
		}},
		{name: "gateway4 of the wrong family", field: "spec.network.interfaces[0].gateway4", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0", Gateway4: "fd00::1"}}}
		}},
		{name: "route", field: "spec.network.interfaces[0].routes[0].via", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0",
				Routes: []vmopv1.VirtualMachineNetworkRouteSpec{{To: "default", Via: "gateway"}}}}}
		}},
		{name: "mtu", field: "spec.network.interfaces[0].mtu", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0", MTU: ptr.To[int64](20)}}}
		}},
		{name: "named probe port", field: "spec.readinessProbe.tcpSocket.port", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{TCPSocket: &vmopv1.TCPSocketAction{Port: intstr.FromString("https")}}
		}},
		{name: "two probes", field: "spec.readinessProbe", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{TCPSocket: &vmopv1.TCPSocketAction{Port: intstr.FromInt32(22)}, GuestHeartbeat: &vmopv1.GuestHeartbeatAction{}}
		}},
		{name: "bad guestInfo expression", field: "spec.readinessProbe.guestInfo[0].value", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{GuestInfo: []vmopv1.GuestInfoAction{{Key: "ready", Value: "("}}}
		}},
		{name: "resource policy", field: "spec.reserved.resourcePolicyName", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Reserved = &vmopv1.VirtualMachineReservedSpec{ResourcePolicyName: "p"}
		}},
		{name: "restart time", field: "spec.nextRestartTime", edit: func(vm *vmopv1.VirtualMachine) { vm.Spec.NextRestartTime = "tomorrow" }},
		{name: "boot disk", field: "spec.advanced.bootDiskCapacity", edit: func(vm *vmopv1.VirtualMachine) {
			vm.Spec.Advanced = &vmopv1.VirtualMachineAdvancedSpec{BootDiskCapacity: ptr.To(resource.MustParse("0"))}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vm"}}
			tc.edit(vm)
			_, err := (&VirtualMachineValidator{}).ValidateCreate(context.Background(), vm)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("want refused naming %s, got %v", tc.field, err)
			}
		})
	}
}

func TestValidateVirtualMachineClass(t *testing.T) {
	c := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Name: "gpu"}}
	c.Spec.Hardware.Devices.VGPUDevices = []vmopv1.VGPUDevice{{ProfileName: "grid_v100-4q"}}
	c.Spec.Hardware.InstanceStorage.Volumes = []vmopv1.InstanceStorageVolume{{Size: resource.MustParse("10Gi")}}
	c.Spec.ConfigSpec = []byte(`{"_typeName":"VirtualMachineConfigSpec","numCPUs":2,"extraConfig":[{"_typeName":"OptionValue","key":"a","value":{"_typeName":"string","_value":"b"}}]}`)
	errs := ValidateVirtualMachineClass(c)
	got := errs.ToAggregate().Error()
	for _, want := range []string{"spec.hardware.devices:", "spec.hardware.instanceStorage:", "spec.configSpec.numCPUs:"} {
		if !strings.Contains(got, want) {
			t.Errorf("want %s named, got %s", want, got)
		}
	}
	if strings.Contains(got, "spec.configSpec.extraConfig") {
		t.Errorf("extraConfig is applied, not refused: %s", got)
	}
	c.Spec.ConfigSpec = []byte(`{"_typeName":"VirtualMachineConfigSpec"`)
	if errs := ValidateVirtualMachineClass(c); !strings.Contains(errs.ToAggregate().Error(), "spec.configSpec:") {
		t.Errorf("malformed configSpec: %v", errs)
	}
}

func TestDefaultRestartNow(t *testing.T) {
	at := time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC)
	vm := &vmopv1.VirtualMachine{Spec: vmopv1.VirtualMachineSpec{NextRestartTime: "now"}}
	if err := (&VirtualMachineDefaulter{Now: func() time.Time { return at }}).Default(context.Background(), vm); err != nil {
		t.Fatal(err)
	}
	if vm.Spec.NextRestartTime != "2026-12-04T05:00:00Z" {
		t.Fatalf("nextRestartTime = %q", vm.Spec.NextRestartTime)
	}
}

func TestDefaultAddsTheFinalizerOnCreateOnly(t *testing.T) {
	d := &VirtualMachineDefaulter{Now: time.Now}
	for op, want := range map[admissionv1.Operation]bool{admissionv1.Create: true, admissionv1.Update: false} {
		ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: op}})
		vm := &vmopv1.VirtualMachine{}
		if err := d.Default(ctx, vm); err != nil {
			t.Fatal(err)
		}
		if got := controllerutil.ContainsFinalizer(vm, vmopv1.VirtualMachineFinalizer); got != want {
			t.Errorf("%s: finalizer added = %v, want %v", op, got, want)
		}
		if err := d.Default(ctx, vm); err != nil || len(vm.Finalizers) > 1 {
			t.Errorf("%s: defaulting twice gave finalizers %v (%v)", op, vm.Finalizers, err)
		}
	}
}

func TestValidateV1alpha1NamesTheField(t *testing.T) {
	key := 3000
	vm := &vmopv1alpha1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vm"}, Spec: vmopv1alpha1.VirtualMachineSpec{
		Ports:              []vmopv1alpha1.VirtualMachinePort{{Port: 22, Name: "ssh", Protocol: "TCP"}},
		NetworkInterfaces:  []vmopv1alpha1.VirtualMachineNetworkInterface{{NetworkType: "vsphere-distributed"}, {NetworkType: "nsx-t", EthernetCardType: "e1000"}},
		Volumes:            []vmopv1alpha1.VirtualMachineVolume{{Name: "data", VsphereVolume: &vmopv1alpha1.VsphereVolumeSource{DeviceKey: &key}}},
		ResourcePolicyName: "policy",
	}}
	warnings, err := (&V1alpha1VirtualMachineValidator{}).ValidateCreate(context.Background(), vm)
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "spec.ports:") {
		t.Errorf("want a warning naming spec.ports, got %v", warnings)
	}
	for _, want := range []string{"spec.networkInterfaces[1].networkType:", "spec.networkInterfaces[1].ethernetCardType:", "spec.volumes[0].vSphereVolume:", "spec.resourcePolicyName:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %s refused, got %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "networkInterfaces[0]") {
		t.Errorf("vsphere-distributed is this supervisor's network: %v", err)
	}
}
