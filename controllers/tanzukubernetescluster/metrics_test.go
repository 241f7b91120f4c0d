package tanzukubernetescluster

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
)

// An operator sees how many clusters are in each phase: a cluster moves
// from one series to the next, and a deleted one leaves them.
func TestClustersByPhaseMetric(t *testing.T) {
	// A registry of the test's own: the suite's reconciler counts its
	// clusters in the process's.
	registry, gauge := prometheus.NewRegistry(), newClustersByPhase()
	registry.MustRegister(gauge)
	counts := newPhaseCounts(gauge)
	phase := func(p string) float64 {
		return testmetrics.ValueIn(t, registry, "supervisor_tanzukubernetesclusters", map[string]string{"phase": p})
	}
	a, b := types.NamespacedName{Namespace: "ns1", Name: "a"}, types.NamespacedName{Namespace: "ns1", Name: "b"}
	counts.set(a, runv1alpha3.PhaseCreating, false)
	counts.set(b, runv1alpha3.PhaseCreating, false)
	if phase("creating") != 2 || phase("running") != 0 {
		t.Errorf("creating %v, running %v; want 2 and 0", phase("creating"), phase("running"))
	}
	counts.set(a, runv1alpha3.PhaseRunning, false)
	counts.set(b, runv1alpha3.PhaseEmpty, false)
	if phase("creating") != 0 || phase("running") != 1 || phase("none") != 1 {
		t.Errorf("creating %v, running %v, none %v; want 0, 1 and 1", phase("creating"), phase("running"), phase("none"))
	}
	counts.set(a, runv1alpha3.PhaseDeleting, true)
	counts.set(b, "", true)
	if phase("running") != 0 || phase("none") != 0 || phase("deleting") != 0 {
		t.Errorf("deleted clusters still counted: running %v, none %v, deleting %v", phase("running"), phase("none"), phase("deleting"))
	}
}
