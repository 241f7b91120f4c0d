package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/test/harness"
)

// BenchmarkSeedTimeline brings the seed TKC to running as BenchmarkTKC does
// and writes bench/seed-timeline.txt: every change of its Cluster API,
// bootstrap and VM service objects (phase, node, bootstrap data,
// initialization, replicas, conditions that are True), polled every 50 ms,
// with the time since the TKC was created. It is where the seed's time
// goes; with SUPERVISOR_TEST_LOG=1 the controllers' logs carry the same
// clock (the file's first line is the start in UTC).
func BenchmarkSeedTimeline(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the whole scenario; use -benchtime 1x")
	}
	h := harness.New(b, harness.Options{GuestClusters: true, AddressRanges: []string{"127.22.0.10-127.22.0.250"}})
	h.StartManager(nil)
	h.StartLB(harness.LBOptions{Ranges: []lbv1.AddressRange{{Address: "127.47.0.10", Count: 40}}})
	seed := h.SeedTKC()
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	lines := []string{"start " + start.UTC().Format(time.RFC3339Nano)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); lines = timeline(ctx, h.Client, h.Namespace, start, lines) }()
	p := runTKCs(b, h, []*unstructured.Unstructured{seed})
	cancel()
	wg.Wait()
	lines = append(lines, fmt.Sprintf("%7.2fs TanzuKubernetesCluster/%s running", p.wall.Seconds(), seed.GetName()))
	root, err := repoRoot()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(root, "bench", "seed-timeline.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("seed running after %.2fs; wrote %s", p.wall.Seconds(), path)
	b.ReportMetric(p.wall.Seconds(), "s-seed-running")
}

// timeline appends a line to lines for every change of the objects in ns
// until ctx ends.
func timeline(ctx context.Context, c client.Client, ns string, start time.Time, lines []string) []string {
	kinds := []schema.GroupVersionKind{
		{Group: "cluster.x-k8s.io", Version: "v1beta2", Kind: "ClusterList"},
		{Group: "controlplane.cluster.x-k8s.io", Version: "v1beta2", Kind: "KubeadmControlPlaneList"},
		{Group: "cluster.x-k8s.io", Version: "v1beta2", Kind: "MachineList"},
		{Group: "bootstrap.cluster.x-k8s.io", Version: "v1beta2", Kind: "KubeadmConfigList"},
		{Group: "vmoperator.vmware.com", Version: "v1alpha2", Kind: "VirtualMachineList"},
		{Group: "vmoperator.vmware.com", Version: "v1alpha2", Kind: "VirtualMachineServiceList"},
		{Group: "vmware.infrastructure.cluster.x-k8s.io", Version: "v1beta2", Kind: "VSphereClusterList"},
		{Group: "vmware.infrastructure.cluster.x-k8s.io", Version: "v1beta2", Kind: "VSphereMachineList"},
	}
	seen := map[string]string{}
	for ctx.Err() == nil {
		for _, k := range kinds {
			l := &unstructured.UnstructuredList{}
			l.SetGroupVersionKind(k)
			if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
				continue
			}
			for _, o := range l.Items {
				key := strings.TrimSuffix(k.Kind, "List") + "/" + o.GetName()
				s := summarize(o)
				if seen[key] != s {
					seen[key] = s
					lines = append(lines, fmt.Sprintf("%7.2fs %s %s", time.Since(start).Seconds(), key, s))
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return lines
}

// summarize is what the timeline shows of an object.
func summarize(o unstructured.Unstructured) string {
	var parts []string
	// Owners and finalizers: Cluster API's controllers wait for each
	// other's (a Machine's finalizer, a KubeadmConfig's owner).
	if n := len(o.GetOwnerReferences()); n > 0 {
		parts = append(parts, fmt.Sprintf("owners=%d", n))
	}
	if n := len(o.GetFinalizers()); n > 0 {
		parts = append(parts, fmt.Sprintf("finalizers=%d", n))
	}
	if p, ok, _ := unstructured.NestedString(o.Object, "status", "phase"); ok {
		parts = append(parts, "phase="+p)
	}
	if p, ok, _ := unstructured.NestedString(o.Object, "status", "powerState"); ok {
		parts = append(parts, "power="+p)
	}
	if p, ok, _ := unstructured.NestedString(o.Object, "status", "network", "primaryIP4"); ok {
		parts = append(parts, "ip="+p)
	}
	if p, ok, _ := unstructured.NestedString(o.Object, "status", "nodeRef", "name"); ok {
		parts = append(parts, "node="+p)
	}
	if p, ok, _ := unstructured.NestedString(o.Object, "spec", "bootstrap", "dataSecretName"); ok {
		parts = append(parts, "bootstrap="+p)
	}
	if m, ok, _ := unstructured.NestedMap(o.Object, "status", "initialization"); ok {
		var ks []string
		for k, v := range m {
			ks = append(ks, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(ks)
		parts = append(parts, "init{"+strings.Join(ks, ",")+"}")
	}
	for _, f := range []string{"replicas", "readyReplicas", "availableReplicas", "upToDateReplicas"} {
		if v, ok, _ := unstructured.NestedInt64(o.Object, "status", f); ok {
			parts = append(parts, fmt.Sprintf("%s=%d", f, v))
		}
	}
	if ing, ok, _ := unstructured.NestedSlice(o.Object, "status", "loadBalancer", "ingress"); ok {
		parts = append(parts, fmt.Sprintf("ingress=%v", ing))
	}
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	var t []string
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] == "True" {
			t = append(t, fmt.Sprint(m["type"]))
		}
	}
	sort.Strings(t)
	parts = append(parts, "T["+strings.Join(t, ",")+"]")
	return strings.Join(parts, " ")
}
