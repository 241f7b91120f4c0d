package tanzukubernetescluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/open-supervisor/supervisor/api"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/providers/vsphere/catalog"
	"github.com/open-supervisor/supervisor/templates"
	"github.com/open-supervisor/supervisor/test/wait"
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
	// Retrying cannot help; the watches of the cluster and its releases
	// bring it back when either changes.
	if !errors.Is(err, reconcile.TerminalError(nil)) || !res.IsZero() {
		t.Fatalf("Reconcile = %+v, %v; want a terminal error and no requeue", res, err)
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

// A cluster follows the release it names without polling: when the
// release stops naming a node image the cluster fails saying so, and when
// the release is fixed the cluster is provisioned again.
func TestClusterFollowsItsRelease(t *testing.T) {
	ctx := context.Background()
	ns := newVSphereNamespace(t)
	shipped := ShippedReleases()[0]
	tkr := &runv1alpha2.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: shipped.Name + "-" + ns}, Spec: shipped.Spec}
	if err := testClient.Create(ctx, tkr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), tkr) })
	ref := runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: tkr.Name}}
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "follows"},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage", TKR: ref},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "best-effort-small", StorageClass: "k8s-storage", TKR: ref}}},
		}},
	}
	if err := testClient.Create(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	phase := func(want runv1alpha3.TanzuKubernetesClusterPhase, message string) wait.Condition {
		return func() (bool, error) {
			hub := getHub(t, ns, tkc.Name)
			ready := condition(hub, runv1alpha3.ReadyCondition)
			if hub.Status.Phase != want || ready == nil || !strings.Contains(ready.Message, message) {
				return false, fmt.Errorf("phase %q, Ready %+v", hub.Status.Phase, ready)
			}
			return true, nil
		}
	}
	wait.For(t, 90*time.Second, "the cluster to be created", phase(runv1alpha3.PhaseCreating, ""))

	setImage := func(image *corev1.ObjectReference) {
		t.Helper()
		base := tkr.DeepCopy()
		tkr.Spec.NodeImageRef = image
		if err := testClient.Patch(ctx, tkr, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
	}
	image := shipped.Spec.NodeImageRef
	setImage(nil)
	wait.For(t, 90*time.Second, "the cluster to fail on its release", phase(runv1alpha3.PhaseFailed, "names no node image"))
	setImage(image)
	wait.For(t, 90*time.Second, "the cluster to be provisioned again", phase(runv1alpha3.PhaseCreating, ""))

	deleteAndWait(t, ns, tkc.Name)
}
