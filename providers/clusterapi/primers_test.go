package clusterapi

import (
	"context"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/wait"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"
)

// A KubeadmConfig gets its Paused condition as soon as it is created, before
// any Machine owns it: the kubeadm bootstrap provider sets it only once an
// owner is there, and then needs a second, rate-limited reconcile for the
// bootstrap data. (Without the primer this config never gets the condition.)
func TestKubeadmConfigIsMarkedNotPausedBeforeItHasAnOwner(t *testing.T) {
	ctx := context.Background()
	ns := envtest.NewNamespace(t, testClient, "capi-", nil)
	cluster := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "primed"},
		Spec: clusterv1.ClusterSpec{InfrastructureRef: clusterv1.ContractVersionedObjectReference{
			APIGroup: infraGroup, Kind: "FakeCluster", Name: "primed"}}}
	if err := testClient.Create(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	config := &bootstrapv1.KubeadmConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "primed-cp-0",
		Labels: map[string]string{clusterv1.ClusterNameLabel: cluster.Name}}}
	if err := testClient.Create(ctx, config); err != nil {
		t.Fatal(err)
	}
	wait.For(t, time.Minute, "the KubeadmConfig's Paused condition", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKeyFromObject(config), config)
		return err == nil && conditions.Get(config, clusterv1.PausedCondition) != nil, err
	})
	got := conditions.Get(config, clusterv1.PausedCondition)
	if got.Status != metav1.ConditionFalse || got.Reason != clusterv1.NotPausedReason || got.ObservedGeneration != config.Generation {
		t.Errorf("Paused condition = %s/%s observedGeneration %d, want False/%s observedGeneration %d",
			got.Status, got.Reason, got.ObservedGeneration, clusterv1.NotPausedReason, config.Generation)
	}
}

// Paused objects are left to Cluster API, which marks them Paused=True;
// the primer never writes False for them, and never writes over a change it
// has not seen.
func TestPausedPrimerLeavesPausedAndChangedObjectsAlone(t *testing.T) {
	ctx := context.Background()
	const ns = "ns"
	running := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "running"}}
	paused := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "paused"},
		Spec: clusterv1.ClusterSpec{Paused: ptr.To(true)}}
	machine := func(name, cluster string, annotations map[string]string) *clusterv1.Machine {
		return &clusterv1.Machine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations, Generation: 1},
			Spec: clusterv1.MachineSpec{ClusterName: cluster}}
	}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).
		WithObjects(running, paused,
			machine("of-running", "running", nil),
			machine("of-paused", "paused", nil),
			machine("annotated", "running", map[string]string{clusterv1.PausedAnnotation: ""}),
			machine("no-cluster", "missing", nil)).
		WithStatusSubresource(&clusterv1.Machine{}).Build()
	r := &pausedPrimer[*clusterv1.Machine]{
		client:  staleReader{Client: c, stale: createThenChange(t, c, machine("stale", "running", nil))},
		newObj:  func() *clusterv1.Machine { return &clusterv1.Machine{} },
		cluster: func(m *clusterv1.Machine) string { return m.Spec.ClusterName },
	}
	for _, name := range []string{"of-running", "of-paused", "annotated", "no-cluster", "stale"} {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}); err != nil {
			t.Fatalf("reconcile %s: %v", name, err)
		}
	}
	for name, want := range map[string]bool{"of-running": true, "of-paused": false, "annotated": false, "no-cluster": false, "stale": false} {
		m := &clusterv1.Machine{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
			t.Fatal(err)
		}
		got := conditions.Get(m, clusterv1.PausedCondition)
		if (got != nil) != want {
			t.Errorf("Machine %s: Paused condition %v, want one: %v", name, got, want)
			continue
		}
		if got != nil && (got.Status != metav1.ConditionFalse || got.ObservedGeneration != m.Generation) {
			t.Errorf("Machine %s: Paused condition %s with observedGeneration %d, want False with %d", name, got.Status, got.ObservedGeneration, m.Generation)
		}
		if name == "stale" && m.Labels["changed"] == "" {
			t.Errorf("the change the primer had not seen was lost: labels %v", m.Labels)
		}
	}
}

// createThenChange creates obj, then changes it as someone else would,
// and returns it as it was created: what a lagging cache still holds.
func createThenChange(t *testing.T, c client.Client, obj client.Object) client.Object {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	created := obj.DeepCopyObject().(client.Object)
	obj.SetLabels(map[string]string{"changed": "by someone else"})
	if err := c.Update(ctx, obj); err != nil {
		t.Fatal(err)
	}
	return created
}

// staleReader answers Gets of one object with an old copy, as a lagging
// cache would.
type staleReader struct {
	client.Client
	stale client.Object
}

func (s staleReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if key == client.ObjectKeyFromObject(s.stale) {
		switch o := obj.(type) {
		case *clusterv1.Machine:
			*o = *s.stale.(*clusterv1.Machine).DeepCopy()
			return nil
		case *controlplanev1.KubeadmControlPlane:
			*o = *s.stale.(*controlplanev1.KubeadmControlPlane).DeepCopy()
			return nil
		}
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

// A control plane gets KubeadmControlPlane's finalizer once its Cluster
// owns it, and not before: KubeadmControlPlane could not clean up a
// control plane without its Cluster.
func TestFinalizerPrimerAddsTheFinalizerOnceTheClusterOwnsTheControlPlane(t *testing.T) {
	ctx := context.Background()
	const ns = "ns"
	owner := metav1.OwnerReference{APIVersion: clusterv1.GroupVersion.String(), Kind: "Cluster", Name: "tkc", UID: "cluster-uid"}
	notACluster := metav1.OwnerReference{APIVersion: "run.tanzu.vmware.com/v1alpha3", Kind: "TanzuKubernetesCluster", Name: "tkc", UID: "tkc-uid"}
	kcp := func(name string, owners ...metav1.OwnerReference) *controlplanev1.KubeadmControlPlane {
		return &controlplanev1.KubeadmControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: owners}}
	}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).
		WithObjects(kcp("owned", notACluster, owner), kcp("not-yet", notACluster)).Build()
	r := &finalizerPrimer{client: staleReader{Client: c, stale: createThenChange(t, c, kcp("stale", owner))}}
	for name, want := range map[string]bool{"owned": true, "not-yet": false, "stale": false} {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}); err != nil {
			t.Fatalf("reconcile %s: %v", name, err)
		}
		got := &controlplanev1.KubeadmControlPlane{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got); err != nil {
			t.Fatal(err)
		}
		if has := slices.Contains(got.Finalizers, controlplanev1.KubeadmControlPlaneFinalizer); has != want {
			t.Errorf("KubeadmControlPlane %s: finalizers %v, want %s: %v", name, got.Finalizers, controlplanev1.KubeadmControlPlaneFinalizer, want)
		}
		if name == "stale" && got.Labels["changed"] == "" {
			t.Errorf("the change the primer had not seen was lost: labels %v", got.Labels)
		}
	}
}
