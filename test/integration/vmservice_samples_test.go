package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	vmopv1alpha1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// applySample creates every object of a templates/samples file in the
// test's namespace, strictly (an unknown field fails), with the test's
// image and storage class in place of the sample's. It returns the
// VirtualMachine as applied.
func applySample(t *testing.T, h *harness.Harness, file string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "templates", "samples", file))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var vm *unstructured.Unstructured
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		obj.SetNamespace(h.Namespace)
		if obj.GetKind() == "VirtualMachine" {
			_ = unstructured.SetNestedField(obj.Object, h.Image, "spec", "imageName")
			_ = unstructured.SetNestedField(obj.Object, h.StorageClass, "spec", "storageClass")
			vm = obj.DeepCopy()
		}
		if err := h.Client.Create(context.Background(), obj, client.FieldValidation("Strict")); err != nil {
			t.Fatalf("%s: %s %s refused: %v", file, obj.GetKind(), obj.GetName(), err)
		}
		if obj.GetKind() == "VirtualMachine" && !slices.Contains(obj.GetFinalizers(), vmopv1.VirtualMachineFinalizer) {
			// The create's answer, written before any reconcile: the
			// defaulting webhook gives the finalizer in every version.
			t.Errorf("%s: VirtualMachine %s created without the finalizer %s: %v", file, obj.GetName(), vmopv1.VirtualMachineFinalizer, obj.GetFinalizers())
		}
	}
	if vm == nil {
		t.Fatalf("%s has no VirtualMachine", file)
	}
	return vm
}

// TestVSphere7V1alpha1Samples: vSphere 7 VM manifests with each transport
// apply strictly, read back in v1alpha1 as written (through the v1alpha2
// storage and a v1alpha2 write), reach poweredOn with an address, and
// their metadata is in vCenter.
func TestVSphere7V1alpha1Samples(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, hub *vmopv1.VirtualMachine)
	}{
		{file: "vm-v1alpha1-cloudinit.yaml", check: func(t *testing.T, hub *vmopv1.VirtualMachine) {
			got := vcVMs(t, h, hub.Name)[0]
			if ud := decode(t, extraConfig(got, "guestinfo.userdata")); !strings.Contains(ud, "hello from cloud-init") {
				t.Errorf("guestinfo.userdata = %q", ud)
			}
		}},
		{file: "vm-v1alpha1-extraconfig.yaml", check: func(t *testing.T, hub *vmopv1.VirtualMachine) {
			got := vcVMs(t, h, hub.Name)[0]
			if ud := decode(t, extraConfig(got, "guestinfo.userdata")); ud != "#cloud-config\nruncmd:\n- echo hello from extraConfig\n" {
				t.Errorf("guestinfo.userdata = %q, want the Secret's guestinfo.userdata decoded", ud)
			}
		}},
		{file: "vm-v1alpha1-ovfenv.yaml", check: func(t *testing.T, hub *vmopv1.VirtualMachine) {
			got := vcVMs(t, h, hub.Name)[0]
			if v, _ := vAppProperty(got, "hostname"); v != "vm-ovfenv" {
				t.Errorf("vApp property hostname = %q", v)
			}
			if v, _ := vAppProperty(got, "user-data"); !strings.HasPrefix(v, "I2Nsb3VkLWNvbmZpZw") {
				t.Errorf("vApp property user-data = %q", v)
			}
			if ci := got.Guest.CustomizationInfo; ci == nil || ci.CustomizationStatus != string(types.GuestInfoCustomizationStatusTOOLSDEPLOYPKG_SUCCEEDED) {
				t.Errorf("OvfEnv customizes the guest (linuxPrep): %+v", ci)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			applied := applySample(t, h, tc.file)
			want := &vmopv1alpha1.VirtualMachine{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(applied.Object, want); err != nil {
				t.Fatal(err)
			}
			key := client.ObjectKey{Namespace: h.Namespace, Name: applied.GetName()}
			got := &vmopv1alpha1.VirtualMachine{}
			wait.For(t, harness.Timeout, key.Name+" poweredOn with an address", func() (bool, error) {
				if err := h.Client.Get(ctx, key, got); err != nil {
					return false, err
				}
				return got.Status.PowerState == vmopv1alpha1.VirtualMachinePoweredOn && got.Status.VmIp != "" && got.Status.Phase == vmopv1alpha1.Created,
					errString("status " + string(got.Status.PowerState) + " " + got.Status.VmIp + " " + string(got.Status.Phase))
			})
			if !equality.Semantic.DeepEqual(want.Spec, got.Spec) {
				a, _ := yaml.Marshal(want.Spec)
				b, _ := yaml.Marshal(got.Spec)
				t.Fatalf("read back in v1alpha1 unlike applied:\n%s---\n%s", a, b)
			}
			hub := &vmopv1.VirtualMachine{}
			if err := h.Client.Get(ctx, key, hub); err != nil {
				t.Fatal(err)
			}
			if hub.Status.Network == nil || hub.Status.Network.PrimaryIP4 != got.Status.VmIp || hub.Spec.Bootstrap == nil {
				t.Errorf("v1alpha2 form: %+v", hub)
			}
			// A write through v1alpha2 keeps what v1alpha1 said.
			hub.Labels = map[string]string{"touched": "v1alpha2"}
			if err := h.Client.Update(ctx, hub); err != nil {
				t.Fatal(err)
			}
			if err := h.Client.Get(ctx, key, got); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(want.Spec, got.Spec) || got.Labels["touched"] != "v1alpha2" {
				t.Errorf("after a v1alpha2 write, v1alpha1 reads %+v", got.Spec)
			}
			tc.check(t, hub)
		})
	}
}

// TestVMOperatorV1alpha2Samples: the v1alpha2 samples (vm-operator's
// cloud-init and sysprep examples) apply strictly and show in vCenter.
func TestVMOperatorV1alpha2Samples(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	vm := waitReady(h, &vmopv1.VirtualMachine{ObjectMeta: objectMeta(applySample(t, h, "vm-v1alpha2-cloudconfig.yaml"))})
	got := vcVMs(t, h, vm.Name)[0]
	if n := nics(got); len(n) != 2 {
		t.Errorf("want two NICs, got %d", len(n))
	}
	if v, _ := vAppProperty(got, "hostname"); v != "my-vm" {
		t.Errorf("vApp property hostname = %q", v)
	}
	if ud := decode(t, extraConfig(got, "guestinfo.userdata")); !strings.Contains(ud, "content: a secret written to /etc/my-secret") {
		t.Errorf("guestinfo.userdata:\n%s", ud)
	}
	var disk *types.VirtualDisk
	for _, d := range got.Config.Hardware.Device {
		if vd, ok := d.(*types.VirtualDisk); ok && (disk == nil || vd.Key < disk.Key) {
			disk = vd
		}
	}
	if disk == nil || disk.CapacityInBytes != 40<<30 {
		t.Errorf("boot disk %+v, want 40Gi", disk)
	}

	win := waitReady(h, &vmopv1.VirtualMachine{ObjectMeta: objectMeta(applySample(t, h, "vm-v1alpha2-sysprep.yaml"))})
	got = vcVMs(t, h, win.Name)[0]
	if ci := got.Guest.CustomizationInfo; ci == nil || ci.CustomizationStatus != string(types.GuestInfoCustomizationStatusTOOLSDEPLOYPKG_SUCCEEDED) || got.Guest.HostName != win.Name {
		t.Errorf("sysprep customization: %+v, host name %q", ci, got.Guest.HostName)
	}
}

func objectMeta(u *unstructured.Unstructured) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: u.GetNamespace(), Name: u.GetName()}
}
