package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/wait"
)

// vsphereNamespaceLabel marks a Namespace as a vSphere Namespace, as the
// namespaces API labels the ones it creates.
const vsphereNamespaceLabel = "vsphere.opensupervisor.io/vsphere-namespace"

// `kubectl delete namespace` of a vSphere Namespace holding a
// VirtualMachine finishes, and the VM is gone from vCenter and its address
// free again.
func TestDeleteNamespaceWithVM(t *testing.T) {
	c := supervisor.client
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-delete-", Labels: map[string]string{vsphereNamespaceLabel: "true"}}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	wait.For(t, time.Minute, "the namespace's VM classes", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "best-effort-small"}, &vmopv1.VirtualMachineClass{})
		return err == nil, err
	})
	apply(t, "../../templates/samples/virtualmachine.yaml", ns.Name)
	vm := &vmopv1.VirtualMachine{}
	wait.For(t, time.Minute, "my-vm powered on with an IP", func() (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "my-vm"}, vm); err != nil {
			return false, err
		}
		if vm.Status.PowerState != vmopv1.VirtualMachinePowerStateOn || vm.Status.Network == nil || vm.Status.Network.PrimaryIP4 == "" {
			return false, fmt.Errorf("status %+v", vm.Status)
		}
		return true, nil
	})
	uid := string(vm.UID)
	if n := vcenterVMsWithUUID(t, uid); n != 1 {
		t.Fatalf("my-vm has %d VMs in vCenter, want 1", n)
	}
	if n := allocationsOf(t, uid); n != 1 {
		t.Fatalf("my-vm has %d addresses allocated, want 1", n)
	}

	if err := c.Delete(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// The namespace controller waits 5 s after each event and looks again
	// every few seconds while the VM is destroyed.
	wait.For(t, 2*time.Minute, "the namespace to be gone", func() (bool, error) {
		err := c.Get(ctx, client.ObjectKeyFromObject(ns), ns)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return false, fmt.Errorf("namespace %s is %s: %+v", ns.Name, ns.Status.Phase, ns.Status.Conditions)
	})
	if n := vcenterVMsWithUUID(t, uid); n != 0 {
		t.Errorf("%d VMs of my-vm left in vCenter", n)
	}
	if n := allocationsOf(t, uid); n != 0 {
		t.Errorf("%d addresses still allocated to my-vm", n)
	}
}

// vcenterVMsWithUUID counts the VMs anywhere in the simulator with the
// instance UUID (a VirtualMachine's UID).
func vcenterVMsWithUUID(t *testing.T, uuid string) int {
	t.Helper()
	ctx := context.Background()
	vimClient, logout := vcenterLogin(t)
	defer logout()
	refs, err := object.NewSearchIndex(vimClient).FindAllByUuid(ctx, nil, uuid, true, types.NewBool(true))
	if err != nil {
		t.Fatal(err)
	}
	return len(refs)
}

// allocationsOf counts the workload addresses allocated to the owner UID.
func allocationsOf(t *testing.T, uid string) int {
	t.Helper()
	var list vspherev1.IPAddressAllocationList
	if err := supervisor.client.List(context.Background(), &list, client.MatchingLabels{vspherev1.AllocationOwnerUIDLabel: uid}); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}
