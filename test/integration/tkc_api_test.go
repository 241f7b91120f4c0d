package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// The seed manifest, exactly as users apply it, is admitted through the
// real API server (defaulting and validation webhooks, release resolved
// from the published TanzuKubernetesReleases), stored as v1alpha3 and
// read back as v1alpha1 unchanged; an invalid change is refused naming the
// field.
func TestSeedTanzuKubernetesClusterAdmitted(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()
	seed := h.SeedTKC()
	wait.For(t, harness.Timeout, "the v1.18 release published and Ready", func() (bool, error) {
		tkr := &runv1alpha2.TanzuKubernetesRelease{}
		if err := h.Client.Get(ctx, client.ObjectKey{Name: "v1.18.19---vmware.1-tkg.1.17af790"}, tkr); err != nil {
			return false, err
		}
		for _, c := range tkr.Status.Conditions {
			if c.Type == runv1alpha2.ReleaseReadyCondition && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, fmt.Errorf("release not Ready: %+v", tkr.Status.Conditions)
	})
	// Clients of the older API read the same releases through conversion.
	old := &runv1alpha1.TanzuKubernetesReleaseList{}
	if err := h.Client.List(ctx, old); err != nil {
		t.Fatalf("listing releases as v1alpha1: %v", err)
	}
	if len(old.Items) == 0 || old.Items[0].Spec.Version == "" || len(old.Items[0].Status.Conditions) == 0 {
		t.Errorf("v1alpha1 releases came back empty: %+v", old.Items)
	}

	if err := h.Client.Create(ctx, seed.DeepCopy()); err != nil {
		t.Fatalf("the seed manifest was refused: %v", err)
	}
	// Delete it while the manager still runs, so its Cluster API objects go too.
	t.Cleanup(func() {
		_ = h.Client.Delete(context.Background(), seed)
		wait.For(t, harness.Timeout, "the seed TKC deleted", func() (bool, error) {
			err := h.Client.Get(context.Background(), client.ObjectKeyFromObject(seed), &runv1alpha3.TanzuKubernetesCluster{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, fmt.Errorf("the TKC is still there (%v)", err)
		})
	})

	hub := &runv1alpha3.TanzuKubernetesCluster{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: seed.GetName()}, hub); err != nil {
		t.Fatalf("reading the seed as v1alpha3: %v", err)
	}
	if hub.Spec.Topology.ControlPlane.Replicas == nil || *hub.Spec.Topology.ControlPlane.Replicas != 3 || len(hub.Spec.Topology.NodePools) != 1 {
		t.Errorf("v1alpha3 topology %+v", hub.Spec.Topology)
	}

	back := &unstructured.Unstructured{}
	back.SetGroupVersionKind(seed.GroupVersionKind())
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: seed.GetName()}, back); err != nil {
		t.Fatal(err)
	}
	wantSpec, _, _ := unstructured.NestedMap(seed.Object, "spec")
	gotSpec, _, _ := unstructured.NestedMap(back.Object, "spec")
	for _, path := range [][]string{{"topology"}, {"settings", "network", "pods"}, {"settings", "network", "services"}, {"settings", "network", "cni"}} {
		w, _, _ := unstructured.NestedFieldNoCopy(wantSpec, path...)
		g, _, _ := unstructured.NestedFieldNoCopy(gotSpec, path...)
		if fmt.Sprint(w) != fmt.Sprint(g) {
			t.Errorf("spec.%s changed through storage: wrote %v, read %v", strings.Join(path, "."), w, g)
		}
	}
	if v, _, _ := unstructured.NestedString(gotSpec, "distribution", "version"); v != "v1.18" {
		t.Errorf("the version hint must read back as written, got %q", v)
	}
	if v, _, _ := unstructured.NestedString(gotSpec, "distribution", "fullVersion"); v != "v1.18.19+vmware.1-tkg.1.17af790" {
		t.Errorf("the hint must resolve to the newest v1.18 release, got %q", v)
	}

	// An even control-plane count is refused with the field path. The TKC
	// controller writes the object too, so a conflict is simply retried.
	var err error
	for range 20 {
		if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: seed.GetName()}, back); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(back.Object, int64(2), "spec", "topology", "controlPlane", "count"); err != nil {
			t.Fatal(err)
		}
		if err = h.Client.Update(ctx, back); !apierrors.IsConflict(err) {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "spec.topology.controlPlane.count") {
		t.Errorf("want a refusal naming spec.topology.controlPlane.count, got %v", err)
	}
}
