package tanzukubernetesrelease

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/templates"
)

func condition(tkr *runv1.TanzuKubernetesRelease, typ string) *runv1.Condition {
	for i := range tkr.Status.Conditions {
		if tkr.Status.Conditions[i].Type == typ {
			return &tkr.Status.Conditions[i]
		}
	}
	return nil
}

// Every shipped release is published; a release is Ready once its node
// image is in the content library, and lists the newer releases as its
// updates (the newest has none).
func TestEveryShippedReleaseIsPublished(t *testing.T) {
	ctx := context.Background()
	newest := templates.Newest()
	// Only the newest release's image is published so far.
	image := &vmopv1.ClusterVirtualMachineImage{ObjectMeta: metav1.ObjectMeta{Name: newest.ImageName()}}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(image).
		WithStatusSubresource(&runv1.TanzuKubernetesRelease{}).Build()
	r := &Reconciler{Client: c}
	for _, rel := range templates.Releases {
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: rel.ObjectName()}}); err != nil {
			t.Fatalf("reconciling %s: %v", rel.ObjectName(), err)
		}
	}
	var list runv1.TanzuKubernetesReleaseList
	if err := c.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != len(templates.Releases) {
		t.Fatalf("%d TanzuKubernetesReleases published for %d shipped", len(list.Items), len(templates.Releases))
	}
	for i, rel := range templates.Releases {
		tkr := &runv1.TanzuKubernetesRelease{}
		if err := c.Get(ctx, client.ObjectKey{Name: rel.ObjectName()}, tkr); err != nil {
			t.Fatal(err)
		}
		if tkr.Spec.Version != rel.Version || tkr.Spec.KubernetesVersion != rel.KubernetesVersion ||
			tkr.Spec.NodeImageRef == nil || tkr.Spec.NodeImageRef.Name != rel.ImageName() {
			t.Errorf("%s: spec %+v", rel.ObjectName(), tkr.Spec)
		}
		wantReady := corev1.ConditionFalse
		if rel == newest {
			wantReady = corev1.ConditionTrue
		}
		if ready := condition(tkr, runv1.ReleaseReadyCondition); ready == nil || ready.Status != wantReady {
			t.Errorf("%s: Ready %+v, want %s", rel.ObjectName(), ready, wantReady)
		}
		updates := condition(tkr, runv1.ReleaseUpdatesAvailableCondition)
		if updates == nil {
			t.Fatalf("%s: no UpdatesAvailable condition", rel.ObjectName())
		}
		if rel == newest {
			if updates.Status != corev1.ConditionFalse {
				t.Errorf("the newest release %s lists updates: %+v", rel.ObjectName(), updates)
			}
			continue
		}
		if next := templates.Releases[i+1].Version; updates.Status != corev1.ConditionTrue ||
			!strings.Contains(updates.Message, next) || !strings.Contains(updates.Message, newest.Version) {
			t.Errorf("%s: UpdatesAvailable %+v does not list %s and %s", rel.ObjectName(), updates, next, newest.Version)
		}
	}
}
