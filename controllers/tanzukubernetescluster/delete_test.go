package tanzukubernetescluster

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	"github.com/open-supervisor/supervisor/api"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/test/wait"
)

// TestDeleteRightAfterCreate deletes clusters the moment their Cluster
// exists, before Cluster API may have taken charge of it, and expects every
// object to go: a Cluster deleted before its finalizer is on would strand
// its MachineDeployment and control plane, whose controllers need the
// Cluster to let them go.
func TestDeleteRightAfterCreate(t *testing.T) {
	ctx := context.Background()
	ns := newVSphereNamespace(t)
	data, err := os.ReadFile("../../templates/samples/tkc-v1alpha1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const clusters = 6
	for i := range clusters {
		name := fmt.Sprintf("quick%d", i)
		tkc := &runv1alpha1.TanzuKubernetesCluster{}
		if err := yaml.UnmarshalStrict(data, tkc); err != nil {
			t.Fatal(err)
		}
		tkc.Namespace, tkc.Name = ns, name
		if err := testClient.Create(ctx, tkc); err != nil {
			t.Fatal(err)
		}
		wait.For(t, 90*time.Second, "the Cluster "+name, func() (bool, error) { return get(ns, name, &clusterv1.Cluster{}) })
		if err := testClient.Delete(ctx, tkc); err != nil {
			t.Fatal(err)
		}
	}
	for i := range clusters {
		waitAllGone(t, ns, fmt.Sprintf("quick%d", i))
	}
}

// TestClusterDeletedOnlyOnceClusterAPIHoldsIt holds the Cluster until
// Cluster API's finalizer is on it: a Cluster deleted before that goes at
// once and strands its MachineDeployments and control plane. The end-to-end
// race needs Cluster API to be slow, so the decision is tested here.
func TestClusterDeletedOnlyOnceClusterAPIHoldsIt(t *testing.T) {
	ctx := context.Background()
	tkc := &runv1alpha3.TanzuKubernetesCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tkc01",
		Finalizers: []string{Finalizer}, DeletionTimestamp: ptr.To(metav1.Now())}}
	scheme := api.NewScheme()
	cluster := &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "tkc01"}}
	if err := controllerutil.SetControllerReference(tkc, cluster, scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tkc, cluster).Build()
	r := &Reconciler{Client: c}

	if _, err := r.reconcileDelete(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cluster), cluster); err != nil || !cluster.DeletionTimestamp.IsZero() {
		t.Fatalf("a Cluster without Cluster API's finalizer was deleted (get: %v)", err)
	}
	if !controllerutil.ContainsFinalizer(tkc, Finalizer) {
		t.Fatal("the cluster let go of its finalizer while its Cluster exists")
	}

	cluster.Finalizers = []string{clusterv1.ClusterFinalizer}
	if err := c.Update(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	if _, err := r.reconcileDelete(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(cluster), cluster); err != nil || cluster.DeletionTimestamp.IsZero() {
		t.Fatalf("the Cluster held by Cluster API was not deleted (get: %v)", err)
	}
	if !controllerutil.ContainsFinalizer(tkc, Finalizer) {
		t.Fatal("the cluster let go of its finalizer while its Cluster is being deleted")
	}
}
