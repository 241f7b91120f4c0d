package tanzukubernetescluster

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/providers/vsphere/catalog"
	"github.com/open-supervisor/supervisor/templates"
)

// Each shipped release names the image the content library sync publishes
// for its node template.
func TestShippedReleasesNameTheirImages(t *testing.T) {
	releases := ShippedReleases()
	if len(releases) != len(templates.Releases) {
		t.Fatalf("%d releases for %d shipped", len(releases), len(templates.Releases))
	}
	for i, r := range releases {
		rel, err := releaseOf(r)
		if err != nil {
			t.Fatal(err)
		}
		if want := catalog.ImageName(templates.Releases[i].ImageName()); rel.Image != want || want == "" {
			t.Errorf("%s names image %q, the catalog publishes %q", r.Name, rel.Image, want)
		}
		if !strings.HasPrefix(rel.Version, rel.KubernetesVersion+"+") {
			t.Errorf("%s: Kubernetes version %q does not prefix %q", r.Name, rel.KubernetesVersion, rel.Version)
		}
	}
}

// A cluster whose release is gone fails with a condition naming it, and
// nothing is created.
func TestReconcileMissingRelease(t *testing.T) {
	ctx := context.Background()
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "tkc01", Finalizers: []string{Finalizer}},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{VMClass: "guaranteed-small", StorageClass: "k8s-storage",
				TKR: runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: "v1.30.0---vmware.1-tkg.1"}}},
		}},
	}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(tkc).WithStatusSubresource(tkc).Build()
	r := &Reconciler{Client: c}
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(tkc)})
	if err != nil || res.RequeueAfter == 0 {
		t.Fatalf("Reconcile = %+v, %v; want a later retry without error", res, err)
	}
	got := &runv1alpha3.TanzuKubernetesCluster{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tkc), got); err != nil {
		t.Fatal(err)
	}
	ready := condition(got, runv1alpha3.ReadyCondition)
	if got.Status.Phase != runv1alpha3.PhaseFailed || ready == nil || ready.Reason != runv1alpha3.ProvisioningFailedReason ||
		!strings.Contains(ready.Message, "v1.30.0---vmware.1-tkg.1") {
		t.Errorf("phase %q, Ready %+v", got.Status.Phase, ready)
	}
}
