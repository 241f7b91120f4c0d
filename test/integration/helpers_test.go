package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

const cloudConfig = "#cloud-config\nruncmd:\n- echo hello\n"

// newVM returns a VirtualMachine with a bootstrap Secret, both created.
func newVM(t *testing.T, h *harness.Harness, name, class string) *vmopv1.VirtualMachine {
	t.Helper()
	return newVMFromImage(t, h, name, class, h.Image)
}

// newVMFromImage is newVM with a given image.
func newVMFromImage(t *testing.T, h *harness.Harness, name, class, image string) *vmopv1.VirtualMachine {
	t.Helper()
	ctx := context.Background()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: name + "-bootstrap"},
		Data:       map[string][]byte{"user-data": []byte(cloudConfig)},
	}
	if err := h.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: name},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName:    image,
			ClassName:    class,
			StorageClass: h.StorageClass,
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{
				RawCloudConfig: &vmopv1.SecretKeySelector{Name: secret.Name, Key: "user-data"},
			}},
		},
	}
	if err := h.Client.Create(ctx, vm); err != nil {
		t.Fatal(err)
	}
	return vm
}

// waitReady waits until the VM reports Ready and returns it.
func waitReady(h *harness.Harness, vm *vmopv1.VirtualMachine) *vmopv1.VirtualMachine {
	h.T.Helper()
	out := &vmopv1.VirtualMachine{}
	wait.For(h.T, harness.Timeout, "VirtualMachine "+vm.Name+" Ready", func() (bool, error) {
		if err := h.Client.Get(context.Background(), client.ObjectKeyFromObject(vm), out); err != nil {
			return false, err
		}
		for _, c := range out.Status.Conditions {
			if c.Type == vmopv1.VirtualMachineConditionReady {
				if c.Status == metav1.ConditionTrue {
					return true, nil
				}
				return false, fmt.Errorf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
			}
		}
		return false, fmt.Errorf("no Ready condition yet: %+v", out.Status)
	})
	return out
}

// vcVMs returns the VMs in vCenter named name in the test's namespace folder.
func vcVMs(t *testing.T, h *harness.Harness, name string) []mo.VirtualMachine {
	t.Helper()
	refs := vcVMRefs(h, name)
	if len(refs) == 0 {
		return nil
	}
	var out []mo.VirtualMachine
	if err := property.DefaultCollector(h.Sim.Client.Client).Retrieve(context.Background(), refs, []string{"name", "config", "runtime", "guest", "network"}, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// vcVMRefs returns the references of the VMs in vCenter named name (a
// pattern) in the test's namespace folder.
func vcVMRefs(h *harness.Harness, name string) []types.ManagedObjectReference {
	ctx := context.Background()
	finder := find.NewFinder(h.Sim.Client.Client, true)
	list, err := finder.VirtualMachineList(ctx, "/DC0/vm/Namespaces/"+h.Namespace+"/"+name)
	if err != nil {
		return nil // none found
	}
	refs := make([]types.ManagedObjectReference, 0, len(list))
	for _, vm := range list {
		refs = append(refs, vm.Reference())
	}
	return refs
}

// allVMsWithUUID counts VMs anywhere in vCenter with the instance UUID.
func allVMsWithUUID(t *testing.T, h *harness.Harness, uuid string) int {
	t.Helper()
	refs, err := object.NewSearchIndex(h.Sim.Client.Client).FindAllByUuid(context.Background(), nil, uuid, true, types.NewBool(true))
	if err != nil {
		t.Fatal(err)
	}
	return len(refs)
}

func extraConfig(vm mo.VirtualMachine, key string) string {
	for _, o := range vm.Config.ExtraConfig {
		if ov := o.GetOptionValue(); ov.Key == key {
			s, _ := ov.Value.(string)
			return s
		}
	}
	return ""
}

func decode(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("guestinfo is not base64: %v", err)
	}
	return string(b)
}

func allocations(t *testing.T, h *harness.Harness, uid string) []vspherev1.IPAddressAllocation {
	t.Helper()
	var list vspherev1.IPAddressAllocationList
	if err := h.Client.List(context.Background(), &list, client.MatchingLabels{vspherev1.AllocationOwnerUIDLabel: uid}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}
