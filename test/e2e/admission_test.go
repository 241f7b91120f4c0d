package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// readManifest reads a single-object sample manifest.
func readManifest(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// wantRefusal fails unless err is the API server's Invalid naming path.
func wantRefusal(t *testing.T, what string, err error, path string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s was admitted", what)
	case !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err):
		t.Errorf("%s: want a validation refusal, got %v", what, err)
	case !strings.Contains(err.Error(), path):
		t.Errorf("%s: the refusal does not name %s: %v", what, path, err)
	default:
		t.Logf("%s refused: %v", what, err)
	}
}

// Each kind of invalid manifest a user might apply is refused by the
// embedded supervisor with the field path and reason, and nothing of it is
// created.
func TestInvalidManifestsRefused(t *testing.T) {
	seed := readManifest(t, "../../templates/samples/tkc-v1alpha1.yaml")
	cases := []struct {
		name   string
		change func(u map[string]any)
		path   string
	}{
		{"a VM class not bound to ns1", func(u map[string]any) {
			set(t, u, "no-such-class", "spec", "topology", "controlPlane", "class")
		}, "spec.topology.controlPlane.class"},
		{"an even control-plane count", func(u map[string]any) {
			set(t, u, int64(2), "spec", "topology", "controlPlane", "count")
		}, "spec.topology.controlPlane.count"},
		{"a storage class ns1 may not use", func(u map[string]any) {
			set(t, u, "no-such-storage", "spec", "topology", "workers", "storageClass")
		}, "spec.topology.workers.storageClass"},
		{"service and pod ranges that overlap", func(u map[string]any) {
			set(t, u, []any{"193.0.128.0/20"}, "spec", "settings", "network", "services", "cidrBlocks")
		}, "spec.settings.network.services.cidrBlocks[0]"},
		{"a pod range over the supervisor's VIPs", func(u map[string]any) {
			set(t, u, []any{"127.30.0.0/16"}, "spec", "settings", "network", "pods", "cidrBlocks")
		}, "spec.settings.network.pods.cidrBlocks[0]"},
		{"an unknown Kubernetes version", func(u map[string]any) {
			set(t, u, "v1.99", "spec", "distribution", "version")
		}, "spec.distribution.version"},
		{"an unparsable pod range", func(u map[string]any) {
			set(t, u, []any{"193.0.2.0/33"}, "spec", "settings", "network", "pods", "cidrBlocks")
		}, "spec.settings.network.pods.cidrBlocks[0]"},
	}
	for i, tc := range cases {
		u := seed.DeepCopy()
		u.SetNamespace("ns1")
		u.SetName("invalid-" + string(rune('a'+i)))
		tc.change(u.Object)
		err := supervisor.client.Create(context.Background(), u)
		wantRefusal(t, tc.name, err, tc.path)
		if err == nil {
			_ = supervisor.client.Delete(context.Background(), u)
			continue
		}
		got := &runv1alpha3.TanzuKubernetesCluster{}
		if err := supervisor.client.Get(context.Background(), client.ObjectKeyFromObject(u), got); !apierrors.IsNotFound(err) {
			t.Errorf("%s: a refused TKC exists anyway (%v)", tc.name, err)
		}
	}
}

func set(t *testing.T, obj map[string]any, value any, path ...string) {
	t.Helper()
	if err := unstructured.SetNestedField(obj, value, path...); err != nil {
		t.Fatal(err)
	}
}

// checkImmutableAndRoundTrip works on a running cluster: its network
// settings cannot change, in v1alpha1 or v1alpha2, and writing back what
// was read as v1alpha2 keeps what v1alpha1 shows.
func checkImmutableAndRoundTrip(t *testing.T, key client.ObjectKey) {
	t.Helper()
	ctx := context.Background()
	c := supervisor.client
	before := &runv1alpha1.TanzuKubernetesCluster{}
	if err := c.Get(ctx, key, before); err != nil {
		t.Fatal(err)
	}

	changed := before.DeepCopy()
	changed.Spec.Settings.Network.Pods.CIDRBlocks = []string{"10.200.0.0/16"}
	wantRefusal(t, "changing the pod range (v1alpha1)", c.Update(ctx, changed), "spec.settings.network.pods")

	v2 := &runv1alpha2.TanzuKubernetesCluster{}
	if err := c.Get(ctx, key, v2); err != nil {
		t.Fatal(err)
	}
	cni := v2.DeepCopy()
	cni.Spec.Settings.Network.CNI.Name = "calico"
	wantRefusal(t, "changing the CNI (v1alpha2)", c.Update(ctx, cni), "spec.settings.network.cni")

	// v1alpha2 has no workers field: the round trip through it must keep
	// v1alpha1's view of the topology and the version hint.
	if err := c.Update(ctx, v2); err != nil {
		t.Fatalf("writing back the cluster as read in v1alpha2: %v", err)
	}
	after := &runv1alpha1.TanzuKubernetesCluster{}
	if err := c.Get(ctx, key, after); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(after.Spec.Topology, before.Spec.Topology) || after.Spec.Distribution != before.Spec.Distribution {
		t.Errorf("a v1alpha2 round trip changed the v1alpha1 spec:\nbefore %+v %+v\nafter  %+v %+v",
			before.Spec.Topology, before.Spec.Distribution, after.Spec.Topology, after.Spec.Distribution)
	}
}
