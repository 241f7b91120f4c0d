package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// namespaceDeletionTimeout bounds a namespace's deletion: the namespace
// controller of kube-controller-manager waits 5 s after each event and
// looks again every few seconds while VirtualMachines wait for their VMs
// to be destroyed.
const namespaceDeletionTimeout = 90 * time.Second

// Deleting a vSphere Namespace (`kubectl delete namespace`) deletes its
// VirtualMachines, their VMs in vCenter and their addresses, and then the
// namespace itself.
func TestDeleteNamespaceWithVMs(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()

	var vms []*vmopv1.VirtualMachine
	for i, class := range []string{"best-effort-xsmall", "guaranteed-small"} {
		vm := waitReady(h, newVM(t, h, fmt.Sprintf("vm-%d", i), class))
		if n := allVMsWithUUID(t, h, string(vm.UID)); n != 1 {
			t.Fatalf("VirtualMachine %s has %d VMs in vCenter, want 1", vm.Name, n)
		}
		if allocs := allocations(t, h, string(vm.UID)); len(allocs) != 1 {
			t.Fatalf("VirtualMachine %s has %d address allocations, want 1", vm.Name, len(allocs))
		}
		vms = append(vms, vm)
	}

	ns := &corev1.Namespace{}
	if err := h.Client.Get(ctx, client.ObjectKey{Name: h.Namespace}, ns); err != nil {
		t.Fatal(err)
	}
	if err := h.Client.Delete(ctx, ns); err != nil {
		t.Fatal(err)
	}
	wait.For(t, namespaceDeletionTimeout, "the namespace to be gone", func() (bool, error) {
		err := h.Client.Get(ctx, client.ObjectKey{Name: h.Namespace}, ns)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return false, fmt.Errorf("namespace %s is %s: %+v", ns.Name, ns.Status.Phase, ns.Status.Conditions)
	})
	for _, vm := range vms {
		if n := allVMsWithUUID(t, h, string(vm.UID)); n != 0 {
			t.Errorf("VirtualMachine %s left %d VMs in vCenter", vm.Name, n)
		}
		if allocs := allocations(t, h, string(vm.UID)); len(allocs) != 0 {
			t.Errorf("VirtualMachine %s left its address allocated: %+v", vm.Name, allocs)
		}
	}
}
