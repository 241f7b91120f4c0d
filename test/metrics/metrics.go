// Package metrics reads the manager's Prometheus registry as /metrics
// shows it, for tests and benchmarks that count what the supervisor did.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/open-supervisor/supervisor/test/tb"
)

// Value is the value of the sample of family name whose labels include
// labels (a counter's or a gauge's); 0 when there is none.
func Value(t tb.TB, name string, labels map[string]string) float64 {
	t.Helper()
	return ValueIn(t, metrics.Registry, name, labels)
}

// ValueIn is Value read from registry g.
func ValueIn(t tb.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
