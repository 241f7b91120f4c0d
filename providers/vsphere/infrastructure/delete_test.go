package infrastructure

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// vmServiceFinalizer stands for the VM service's finalizer, which holds a
// VirtualMachine until its VM is destroyed in vCenter.
const vmServiceFinalizer = "test/vm-service"

// A deleted VSphereMachine deletes its VirtualMachine and holds its
// finalizer, saying why, until the VirtualMachine is gone, with no timed
// requeue: the VirtualMachine's disappearance brings it back. Its volume
// claims are left to the garbage collector.
func TestMachineDeletionWaitsForVirtualMachine(t *testing.T) {
	ctx := context.Background()
	scheme := api.NewScheme()
	now := metav1.Now()
	machine := &vmwarev1.VSphereMachine{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "cp-0", UID: "machine-uid", Finalizers: []string{MachineFinalizer}, DeletionTimestamp: &now,
	}}
	vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cp-0", Finalizers: []string{vmServiceFinalizer}}}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: VolumeClaimName("cp-0", "etcd")}}
	for _, o := range []client.Object{vm, claim} {
		if err := controllerutil.SetControllerReference(machine, o, scheme); err != nil {
			t.Fatal(err)
		}
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(machine, vm, claim).WithStatusSubresource(machine).Build()
	r := &MachineReconciler{Client: c}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(machine)}

	res, err := r.Reconcile(ctx, req)
	if err != nil || !res.IsZero() {
		t.Fatalf("Reconcile = %+v, %v; want no error and no timed requeue", res, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(vm), vm); err != nil || vm.DeletionTimestamp.IsZero() {
		t.Fatalf("the VirtualMachine is not being deleted (%v)", err)
	}
	if err := c.Get(ctx, req.NamespacedName, machine); err != nil || !controllerutil.ContainsFinalizer(machine, MachineFinalizer) {
		t.Fatalf("the VSphereMachine let go before its VirtualMachine is gone (%v, finalizers %v)", err, machine.Finalizers)
	}
	if c := meta.FindStatusCondition(machine.Status.Conditions, vmwarev1.VSphereMachineVirtualMachineProvisionedCondition); c == nil || c.Status != metav1.ConditionFalse || c.Message == "" {
		t.Errorf("condition %s = %+v; want False saying what deletion waits for", vmwarev1.VSphereMachineVirtualMachineProvisionedCondition, c)
	}

	// The VM service destroyed the VM and lets the VirtualMachine go.
	vm.Finalizers = nil
	if err := c.Update(ctx, vm); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, req.NamespacedName, machine); !apierrors.IsNotFound(err) {
		t.Errorf("the VSphereMachine is still there once its VirtualMachine is gone (%v, finalizers %v)", err, machine.Finalizers)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(claim), claim); err != nil {
		t.Errorf("the volume claim was deleted by hand, not left to the garbage collector: %v", err)
	}
}

// A deleted VSphereMachine whose Machine is already gone still lets go
// once its VirtualMachine is gone: deletion does not look up the owner.
func TestMachineDeletionWithoutItsMachine(t *testing.T) {
	ctx := context.Background()
	now := metav1.Now()
	machine := &vmwarev1.VSphereMachine{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "w-0", Finalizers: []string{MachineFinalizer}, DeletionTimestamp: &now,
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: clusterv1.GroupVersion.String(), Kind: "Machine", Name: "w-0", UID: "gone", Controller: ptr.To(true),
		}},
	}}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(machine).WithStatusSubresource(machine).Build()
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(machine)}
	if _, err := (&MachineReconciler{Client: c}).Reconcile(ctx, req); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if err := c.Get(ctx, req.NamespacedName, machine); !apierrors.IsNotFound(err) {
		t.Errorf("the VSphereMachine is still there (%v, finalizers %v)", err, machine.Finalizers)
	}
}

// A VSphereCluster holds no finalizer: one reconciled by an earlier
// version, which put one on, is let go when deleted; its
// VirtualMachineService is the garbage collector's.
func TestClusterDeletionLetsGoOfLegacyFinalizer(t *testing.T) {
	ctx := context.Background()
	now := metav1.Now()
	vc := &vmwarev1.VSphereCluster{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: "guest", Finalizers: []string{legacyClusterFinalizer}, DeletionTimestamp: &now,
	}}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(vc).WithStatusSubresource(vc).Build()
	r := &ClusterReconciler{Client: c}
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(vc)})
	if err != nil || !res.IsZero() {
		t.Fatalf("Reconcile = %+v, %v", res, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(vc), vc); !apierrors.IsNotFound(err) {
		t.Errorf("the deleted VSphereCluster is still there (%v, finalizers %v)", err, vc.Finalizers)
	}
}
