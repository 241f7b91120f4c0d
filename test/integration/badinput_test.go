package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// expectRejected waits for the VM's condition to be False with reason and a
// message naming field, checks the Warning Event, and that vCenter has no VM.
func expectRejected(t *testing.T, h *harness.Harness, vm *vmopv1.VirtualMachine, condition, reason, field string) {
	t.Helper()
	ctx := context.Background()
	got := &vmopv1.VirtualMachine{}
	wait.For(t, harness.Timeout, vm.Name+" rejected", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(vm), got); err != nil {
			return false, err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == condition && c.Status == metav1.ConditionFalse && c.Reason == reason {
				if !strings.Contains(c.Message, field) {
					return false, fmt.Errorf("condition message %q does not name %s", c.Message, field)
				}
				return true, nil
			}
		}
		return false, fmt.Errorf("no %s=False/%s condition yet: %+v", condition, reason, got.Status.Conditions)
	})
	wait.For(t, harness.Timeout, vm.Name+" event", func() (bool, error) {
		var events eventsv1.EventList
		if err := h.Client.List(ctx, &events, client.InNamespace(vm.Namespace)); err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Regarding.Name == vm.Name && e.Type == corev1.EventTypeWarning && e.Reason == reason && strings.Contains(e.Note, field) {
				return true, nil
			}
		}
		return false, fmt.Errorf("no Warning event %s naming %s", reason, field)
	})
	if n := allVMsWithUUID(t, h, string(got.UID)); n != 0 {
		t.Errorf("%s: bad input must create nothing in vCenter, found %d VMs", vm.Name, n)
	}
	if allocs := allocations(t, h, string(got.UID)); len(allocs) != 0 && reason != "NoFreeIP" {
		t.Errorf("%s: bad input must not hold an address, got %v", vm.Name, allocs)
	}
}

func TestBadInputCreatesNothing(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()

	cases := []struct {
		name              string
		mutate            func(*vmopv1.VirtualMachine, *corev1.Secret)
		condition, reason string
		field             string
	}{
		{"unknown-class", func(vm *vmopv1.VirtualMachine, _ *corev1.Secret) { vm.Spec.ClassName = "huge-gpu" },
			vmopv1.VirtualMachineConditionClassReady, "NotFound", "spec.className"},
		{"unknown-image", func(vm *vmopv1.VirtualMachine, _ *corev1.Secret) { vm.Spec.ImageName = "windows-95" },
			vmopv1.VirtualMachineConditionImageReady, "NotFound", "spec.imageName"},
		{"unknown-storage", func(vm *vmopv1.VirtualMachine, _ *corev1.Secret) { vm.Spec.StorageClass = "gold" },
			vmopv1.VirtualMachineConditionStorageReady, "NotFound", "spec.storageClass"},
		{"unknown-network", func(vm *vmopv1.VirtualMachine, _ *corev1.Secret) {
			vm.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0", Network: vmopv1.PartialObjectRef{Name: "nsx-overlay"}}}}
		}, vmopv1.VirtualMachineConditionNetworkReady, "NotFound", "spec.network.interfaces[0].network.name"},
		{"malformed-bootstrap", func(_ *vmopv1.VirtualMachine, s *corev1.Secret) { s.Data["user-data"] = []byte("hello: [unclosed") },
			vmopv1.VirtualMachineConditionBootstrapReady, "InvalidCloudConfig", "spec.bootstrap.cloudInit.rawCloudConfig"},
		{"bad-cloud-config-yaml", func(_ *vmopv1.VirtualMachine, s *corev1.Secret) {
			s.Data["user-data"] = []byte("#cloud-config\nruncmd: [unclosed\n")
		},
			vmopv1.VirtualMachineConditionBootstrapReady, "InvalidCloudConfig", "spec.bootstrap.cloudInit.rawCloudConfig"},
		{"missing-secret-key", func(vm *vmopv1.VirtualMachine, _ *corev1.Secret) {
			vm.Spec.Bootstrap.CloudInit.RawCloudConfig.Key = "value"
		},
			vmopv1.VirtualMachineConditionBootstrapReady, "KeyNotFound", "spec.bootstrap.cloudInit.rawCloudConfig.key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			secret := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: tc.name + "-bootstrap"},
				Data:       map[string][]byte{"user-data": []byte(cloudConfig)},
			}
			vm := &vmopv1.VirtualMachine{
				ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: tc.name},
				Spec: vmopv1.VirtualMachineSpec{
					ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
					Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{
						RawCloudConfig: &vmopv1.SecretKeySelector{Name: secret.Name, Key: "user-data"},
					}},
				},
			}
			tc.mutate(vm, secret)
			if err := h.Client.Create(ctx, secret); err != nil {
				t.Fatal(err)
			}
			if err := h.Client.Create(ctx, vm); err != nil {
				t.Fatal(err)
			}
			expectRejected(t, h, vm, tc.condition, tc.reason, tc.field)
		})
	}

	// Fixing the input lets the VM through: nothing was lost.
	fixed := &vmopv1.VirtualMachine{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: "unknown-class"}, fixed); err != nil {
		t.Fatal(err)
	}
	base := fixed.DeepCopy()
	fixed.Spec.ClassName = "best-effort-xsmall"
	// A patch, not an update: the VM service may write the refused VM's
	// status again meanwhile.
	if err := h.Client.Patch(ctx, fixed, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	waitReady(h, fixed)
}

func TestNoFreeAddress(t *testing.T) {
	h := harness.New(t, harness.Options{AddressRanges: []string{"127.22.0.10-127.22.0.10"}})
	h.StartManager(nil)

	first := waitReady(h, newVM(t, h, "only", "best-effort-xsmall"))
	if ip := first.Status.Network.PrimaryIP4; ip != "127.22.0.10" {
		t.Fatalf("want the range's only address, got %q", ip)
	}
	second := newVM(t, h, "one-too-many", "best-effort-xsmall")
	expectRejected(t, h, second, vmopv1.VirtualMachineConditionNetworkReady, "NoFreeIP", "spec.network")

	// Freeing the address lets the waiting VM have it.
	if err := h.Client.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the waiting VM to get the freed address", func() (bool, error) {
		got := &vmopv1.VirtualMachine{}
		if err := h.Client.Get(context.Background(), client.ObjectKeyFromObject(second), got); err != nil {
			return false, err
		}
		if got.Status.Network == nil || got.Status.Network.PrimaryIP4 != "127.22.0.10" {
			return false, fmt.Errorf("no address yet")
		}
		return true, nil
	})
}

// A vSphere Namespace's networks decide where its VMs go: a VM that names
// no network gets the first, and one naming a network outside them is
// refused, naming the field.
func TestNamespaceNetworksChooseTheVMsNetwork(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	second := &vspherev1.WorkloadNetwork{
		ObjectMeta: metav1.ObjectMeta{Name: h.Network + "-second"},
		Spec:       vspherev1.WorkloadNetworkSpec{PortGroup: vcsim.WorkloadPortGroup, AddressRanges: []string{"127.23.0.10-127.23.0.20"}, PrefixLength: 16, Gateway: "127.23.0.1"},
	}
	if err := h.Client.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Client.Delete(context.Background(), second) })
	ns := &corev1.Namespace{}
	if err := h.Client.Get(ctx, client.ObjectKey{Name: h.Namespace}, ns); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(ns.DeepCopy())
	ns.Annotations = map[string]string{vspherev1.NamespaceNetworksAnnotation: second.Name + "," + h.Network}
	if err := h.Client.Patch(ctx, ns, patch); err != nil {
		t.Fatal(err)
	}
	h.StartManager(nil)

	vm := waitReady(h, newVM(t, h, "on-the-namespaces-network", "best-effort-xsmall"))
	if ip := vm.Status.Network.PrimaryIP4; ip != "127.23.0.10" {
		t.Errorf("a VM naming no network got %q; want the first address of the namespace's first network", ip)
	}
	outside := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "outside"},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
			Network: &vmopv1.VirtualMachineNetworkSpec{Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{{Name: "eth0", Network: vmopv1.PartialObjectRef{Name: "someone-elses"}}}},
		},
	}
	if err := h.Client.Create(ctx, outside); err != nil {
		t.Fatal(err)
	}
	expectRejected(t, h, outside, vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineNetworkNotAllowedReason, "spec.network.interfaces[0].network.name")
}
