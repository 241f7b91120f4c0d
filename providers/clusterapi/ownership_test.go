package clusterapi

import (
	"context"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	"github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/wait"
)

// newOwnedMachine creates, in a new namespace, a Cluster (paused if asked),
// a KubeadmConfig and a FakeMachine, and a Machine naming both, without its
// finalizer; it waits until Cluster API's Machine controller has added the
// finalizer (its first reconcile) and returns the Machine and its objects.
func newOwnedMachine(t *testing.T, paused bool) (*clusterv1.Machine, []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	ns := envtest.NewNamespace(t, testClient, "capi-", nil)
	cluster := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"},
		Spec: clusterv1.ClusterSpec{Paused: ptr.To(paused), InfrastructureRef: clusterv1.ContractVersionedObjectReference{
			APIGroup: infraGroup, Kind: "FakeCluster", Name: "owner"}}}
	config := &bootstrapv1.KubeadmConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner-0"}}
	infra := newInfra("FakeMachine", ns, "owner-0", map[string]any{})
	machine := &clusterv1.Machine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner-0"},
		Spec: clusterv1.MachineSpec{
			ClusterName: cluster.Name,
			Bootstrap: clusterv1.Bootstrap{ConfigRef: clusterv1.ContractVersionedObjectReference{
				APIGroup: bootstrapv1.GroupVersion.Group, Kind: "KubeadmConfig", Name: config.Name}},
			InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infraGroup, Kind: "FakeMachine", Name: infra.GetName()},
		}}
	for _, obj := range []client.Object{cluster, config, infra, machine} {
		if err := testClient.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, time.Minute, "Cluster API's Machine finalizer", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKeyFromObject(machine), machine)
		return err == nil && controllerutil.ContainsFinalizer(machine, clusterv1.MachineFinalizer), err
	})
	configRef := &unstructured.Unstructured{}
	configRef.SetGroupVersionKind(bootstrapv1.GroupVersion.WithKind("KubeadmConfig"))
	configRef.SetNamespace(ns)
	configRef.SetName(config.Name)
	return machine, []*unstructured.Unstructured{configRef, infra}
}

// controllerOf returns obj's controller reference as read now, and its
// cluster-name label.
func controllerOf(t *testing.T, obj *unstructured.Unstructured) (*metav1.OwnerReference, string) {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(obj.GroupVersionKind())
	if err := testClient.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	return metav1.GetControllerOf(got), got.GetLabels()[clusterv1.ClusterNameLabel]
}

// A Machine's bootstrap config and infrastructure machine are handed to it
// as soon as it has its finalizer. Cluster API's Machine controller hands
// them over too, but in its second reconcile, at least a second after the
// first one added the finalizer (its rate limiting): the test looks right
// after the finalizer appeared and the primer ran once, so the hand-over it
// sees is the primer's.
func TestMachineGetsItsObjectsAsSoonAsItHasItsFinalizer(t *testing.T) {
	machine, objs := newOwnedMachine(t, false)
	r := &ownershipPrimer{client: testClient}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(machine)}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		ref, label := controllerOf(t, obj)
		if ref == nil || ref.UID != machine.UID || ref.Kind != "Machine" {
			t.Errorf("%s %s: controller %v, want Machine %s", obj.GetKind(), obj.GetName(), ref, machine.Name)
		}
		if label != machine.Spec.ClusterName {
			t.Errorf("%s %s: cluster-name label %q, want %q", obj.GetKind(), obj.GetName(), label, machine.Spec.ClusterName)
		}
	}
}

// A Machine of a paused Cluster is left alone, as Cluster API leaves it.
func TestMachineOfAPausedClusterKeepsItsObjectsUnowned(t *testing.T) {
	machine, objs := newOwnedMachine(t, true)
	r := &ownershipPrimer{client: testClient}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(machine)}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if ref, _ := controllerOf(t, obj); ref != nil {
			t.Errorf("%s: controller %v, want none while the Cluster is paused", obj.GetName(), ref)
		}
	}
}

// The owners that created a Machine's objects before the Machine existed go:
// its MachineSet, or the control plane of a control-plane Machine; any
// other owner stays.
func TestWithoutOnCreateOwners(t *testing.T) {
	cluster := &clusterv1.Cluster{Spec: clusterv1.ClusterSpec{ControlPlaneRef: clusterv1.ContractVersionedObjectReference{
		APIGroup: controlplanev1.GroupVersion.Group, Kind: "KubeadmControlPlane", Name: "cp"}}}
	ms := metav1.OwnerReference{APIVersion: clusterv1.GroupVersion.String(), Kind: "MachineSet", Name: "ms", Controller: ptr.To(true)}
	kcp := metav1.OwnerReference{APIVersion: controlplanev1.GroupVersion.String(), Kind: "KubeadmControlPlane", Name: "cp", Controller: ptr.To(true)}
	other := metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Keeper", Name: "k"}
	worker := &clusterv1.Machine{}
	controlPlane := &clusterv1.Machine{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{clusterv1.MachineControlPlaneLabel: ""}}}
	for _, tc := range []struct {
		name    string
		machine *clusterv1.Machine
		owners  []metav1.OwnerReference
		want    []metav1.OwnerReference
	}{
		{"a worker's MachineSet", worker, []metav1.OwnerReference{ms, other}, []metav1.OwnerReference{other}},
		{"a worker keeps a control plane's reference", worker, []metav1.OwnerReference{kcp}, []metav1.OwnerReference{kcp}},
		{"a control plane's KubeadmControlPlane", controlPlane, []metav1.OwnerReference{other, kcp}, []metav1.OwnerReference{other}},
	} {
		if got := withoutOnCreateOwners(cluster, tc.machine, tc.owners); !slices.EqualFunc(got, tc.want, func(a, b metav1.OwnerReference) bool { return a.Name == b.Name }) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
