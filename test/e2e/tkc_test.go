package e2e

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// The seed manifest is admitted unchanged in ns1 right after start-up:
// the default classes, the storage class and the releases are there.
func TestSeedTKCAdmitted(t *testing.T) {
	objs := apply(t, "../../templates/samples/tkc-v1alpha1.yaml", "ns1")
	tkc := &runv1alpha3.TanzuKubernetesCluster{}
	if err := supervisor.client.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: objs[0].GetName()}, tkc); err != nil {
		t.Fatal(err)
	}
	if len(tkc.Spec.Topology.NodePools) != 1 {
		t.Errorf("want the workers as one node pool, got %+v", tkc.Spec.Topology.NodePools)
	}
	if err := supervisor.client.Delete(context.Background(), tkc); err != nil {
		t.Fatal(err)
	}
}
