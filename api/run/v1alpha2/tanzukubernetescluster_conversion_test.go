package v1alpha2

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// spokes are v1alpha2 clusters made from the hub fixtures, with a
// distribution (which v1alpha3 lacks) and without failure domains (which
// v1alpha2 lacks).
func spokes(t *testing.T) []*TanzuKubernetesCluster {
	var out []*TanzuKubernetesCluster
	for i, h := range testfixtures.HubClusters() {
		s := &TanzuKubernetesCluster{}
		h.ObjectMeta.DeepCopyInto(&s.ObjectMeta)
		if err := rules.CopyJSON(h.Spec, &s.Spec); err != nil {
			t.Fatal(err)
		}
		if err := rules.CopyJSON(h.Status, &s.Status); err != nil {
			t.Fatal(err)
		}
		if i != 1 {
			s.Spec.Distribution = Distribution{Version: "v1.19.16+vmware.1-tkg.1", VersionHint: "v1.19"}
		}
		out = append(out, s)
	}
	return out
}

func TestConvertV1alpha2HubV1alpha2(t *testing.T) {
	for _, want := range spokes(t) {
		hub := &v1alpha3.TanzuKubernetesCluster{}
		if err := want.DeepCopy().ConvertTo(hub); err != nil {
			t.Fatal(err)
		}
		got := &TanzuKubernetesCluster{}
		if err := got.ConvertFrom(hub); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("%s: v1alpha2 → v1alpha3 → v1alpha2 lost data:\n%s", want.Name, diff.Diff(want, got))
		}
	}
}

func TestConvertHubV1alpha2Hub(t *testing.T) {
	for _, want := range testfixtures.HubClusters() {
		spoke := &TanzuKubernetesCluster{}
		if err := spoke.ConvertFrom(want.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		got := &v1alpha3.TanzuKubernetesCluster{}
		if err := spoke.ConvertTo(got); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("%s: v1alpha3 → v1alpha2 → v1alpha3 lost data:\n%s", want.Name, diff.Diff(want, got))
		}
	}
}

// A release changed through v1alpha3 moves the distribution with it.
func TestConvertFollowsReleaseChangedInHub(t *testing.T) {
	hub := &v1alpha3.TanzuKubernetesCluster{}
	if err := spokes(t)[0].ConvertTo(hub); err != nil {
		t.Fatal(err)
	}
	hub.Spec.Topology.ControlPlane.TKR.Reference.Name = "v1.20.15---vmware.1-tkg.1"
	got := &TanzuKubernetesCluster{}
	if err := got.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	if d := got.Spec.Distribution; d.Version != "v1.20.15+vmware.1-tkg.1" || d.VersionHint != "" {
		t.Errorf("distribution = %+v, want fullVersion v1.20.15+vmware.1-tkg.1 and the v1.19 hint dropped", d)
	}
}
