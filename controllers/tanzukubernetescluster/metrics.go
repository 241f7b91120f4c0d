package tanzukubernetescluster

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// clustersByPhase is supervisor_tanzukubernetesclusters on /metrics.
var clustersByPhase = newClustersByPhase()

func newClustersByPhase() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supervisor_tanzukubernetesclusters",
		Help: "TanzuKubernetesClusters by status.phase (none before the first status).",
	}, []string{"phase"})
}

func init() {
	metrics.Registry.MustRegister(clustersByPhase)
}

// phaseNames are the gauge's series, zero included.
var phaseNames = []runv1alpha3.TanzuKubernetesClusterPhase{
	runv1alpha3.PhaseEmpty, runv1alpha3.PhaseCreating, runv1alpha3.PhaseRunning, runv1alpha3.PhaseUpdating,
	runv1alpha3.PhaseUnhealthy, runv1alpha3.PhaseFailed, runv1alpha3.PhaseUpdateFailed, runv1alpha3.PhaseDeleting,
}

// phaseCounts keeps the phase the reconciler last wrote for each cluster,
// so the gauge is exact without listing clusters on every scrape; after a
// restart every cluster is reconciled again and counted.
type phaseCounts struct {
	gauge  *prometheus.GaugeVec
	mu     sync.Mutex
	phases map[types.NamespacedName]runv1alpha3.TanzuKubernetesClusterPhase
}

var clusterPhases = newPhaseCounts(clustersByPhase)

func newPhaseCounts(gauge *prometheus.GaugeVec) *phaseCounts {
	return &phaseCounts{gauge: gauge, phases: map[types.NamespacedName]runv1alpha3.TanzuKubernetesClusterPhase{}}
}

// set records key's phase; forget (gone) removes it.
func (p *phaseCounts) set(key types.NamespacedName, phase runv1alpha3.TanzuKubernetesClusterPhase, gone bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gone {
		delete(p.phases, key)
	} else {
		p.phases[key] = phase
	}
	counts := map[runv1alpha3.TanzuKubernetesClusterPhase]int{}
	for _, ph := range p.phases {
		counts[ph]++
	}
	for _, ph := range phaseNames {
		label := string(ph)
		if label == "" {
			label = "none"
		}
		p.gauge.WithLabelValues(label).Set(float64(counts[ph]))
	}
}
