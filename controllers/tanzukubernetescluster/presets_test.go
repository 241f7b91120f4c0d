package tanzukubernetescluster

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"

	"github.com/open-supervisor/supervisor/api"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// A Cluster and its control plane are created with the bookkeeping Cluster
// API's controllers would otherwise spend their first rate-limited
// reconciles on: the Cluster's finalizer, and the Paused condition of both.
// The control plane gets no finalizer: its controller could not remove one
// from a control plane its Cluster never took charge of.
func TestClusterAndControlPlaneAreCreatedAsClusterAPIWouldFirstMarkThem(t *testing.T) {
	ctx := context.Background()
	tkc := &runv1alpha3.TanzuKubernetesCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tkc01", UID: "tkc-uid"}}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(tkc).
		WithStatusSubresource(&clusterv1.Cluster{}, &controlplanev1.KubeadmControlPlane{}).Build()
	r := &Reconciler{Client: c}
	cluster := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tkc01"}}
	kcp := &controlplanev1.KubeadmControlPlane{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tkc01-control-plane"},
		Spec: controlplanev1.KubeadmControlPlaneSpec{Replicas: ptr.To[int32](3), Version: "v1.33.1"}}

	if err := r.ensureControlPlane(ctx, tkc, kcp.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if err := r.ensureCluster(ctx, tkc, cluster.DeepCopy()); err != nil {
		t.Fatal(err)
	}

	gotCluster := &clusterv1.Cluster{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cluster), gotCluster); err != nil {
		t.Fatal(err)
	}
	if !controllerutil.ContainsFinalizer(gotCluster, clusterv1.ClusterFinalizer) {
		t.Errorf("the Cluster is created with Cluster API's finalizer: %v", gotCluster.Finalizers)
	}
	gotKCP := &controlplanev1.KubeadmControlPlane{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(kcp), gotKCP); err != nil {
		t.Fatal(err)
	}
	if len(gotKCP.Finalizers) != 0 {
		t.Errorf("the control plane gets no finalizer from us: %v", gotKCP.Finalizers)
	}
	for _, obj := range []interface {
		conditions.Getter
		GetGeneration() int64
	}{gotCluster, gotKCP} {
		p := conditions.Get(obj, clusterv1.PausedCondition)
		if p == nil || p.Status != metav1.ConditionFalse || p.Reason != clusterv1.NotPausedReason || p.ObservedGeneration != obj.GetGeneration() {
			t.Errorf("%T: want Paused False (%s) at generation %d, got %+v", obj, clusterv1.NotPausedReason, obj.GetGeneration(), p)
		}
	}

	// Existing objects are Cluster API's to mark: nothing is set again.
	controllerutil.RemoveFinalizer(gotCluster, clusterv1.ClusterFinalizer)
	if err := c.Update(ctx, gotCluster); err != nil {
		t.Fatal(err)
	}
	if err := r.ensureCluster(ctx, tkc, cluster.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cluster), gotCluster); err != nil {
		t.Fatal(err)
	}
	if len(gotCluster.Finalizers) != 0 {
		t.Errorf("an existing Cluster's finalizers are Cluster API's: %v", gotCluster.Finalizers)
	}
}
