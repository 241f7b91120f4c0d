package tanzukubernetescluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Every Machine carries its release's Kubernetes version: it is in the
// metadata of the control plane's and each pool's machine template, which
// Cluster API copies onto the Machines. A release Cluster API is given as
// v1.22.0 keeps its own version there.
func TestMachinesCarryTheReleaseVersion(t *testing.T) {
	releases := map[string]release{}
	for _, tkr := range ShippedReleases() {
		r, err := releaseOf(tkr, nil)
		if err != nil {
			t.Fatal(err)
		}
		releases[r.Name] = r
	}
	for _, name := range []string{release118, "v1.36.3---vmware.1-vkr.1", "v1.37.0---vmware.1-vkr.1"} {
		r, ok := releases[name]
		if !ok {
			t.Fatalf("release %s is not shipped", name)
		}
		ref := runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: name}}
		tkc := &runv1alpha3.TanzuKubernetesCluster{Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage", TKR: ref},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage", TKR: ref}}},
		}}}
		tkc.Name, tkc.Namespace = "tkc", "ns1"
		o, err := desiredObjects(tkc, releases)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{NodeVersionAnnotation: r.KubernetesVersion}
		for what, got := range map[string]map[string]string{
			"the control plane's machine template": o.ControlPlane.Spec.MachineTemplate.ObjectMeta.Annotations,
			"the pool's machine template":          o.MachineDeployments[0].Spec.Template.ObjectMeta.Annotations,
		} {
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %s annotates %s=%q, want %q", name, what, k, got[k], v)
				}
			}
		}
		if o.ControlPlane.Spec.Version != r.ClusterAPIVersion() || o.MachineDeployments[0].Spec.Template.Spec.Version != r.ClusterAPIVersion() {
			t.Errorf("%s: Cluster API is told %s and %s, want %s", name, o.ControlPlane.Spec.Version,
				o.MachineDeployments[0].Spec.Template.Spec.Version, r.ClusterAPIVersion())
		}
	}
}
