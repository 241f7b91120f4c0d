package metrics

import (
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Sums and histograms read over a registry as /metrics would show it.
func TestReadings(t *testing.T) {
	reg := prometheus.NewRegistry()
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calls_total"}, []string{"method", "result"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency_seconds", Buckets: []float64{.1, .2, .4}}, []string{"route", "code"})
	reg.MustRegister(calls, latency)
	calls.WithLabelValues("Login", "ok").Add(2)
	calls.WithLabelValues("Clone", "ok").Add(3)
	calls.WithLabelValues("Clone", "fault").Add(1)

	if got := SumIn(t, reg, "calls_total", nil); got != 6 {
		t.Errorf("sum over every series: %v, want 6", got)
	}
	if got := SumIn(t, reg, "calls_total", map[string]string{"method": "Clone"}); got != 4 {
		t.Errorf("sum over Clone's results: %v, want 4", got)
	}
	if got := ValueIn(t, reg, "calls_total", map[string]string{"method": "Clone", "result": "fault"}); got != 1 {
		t.Errorf("one series: %v, want 1", got)
	}
	if got := SumIn(t, reg, "calls_total", map[string]string{"method": "Nothing"}); got != 0 {
		t.Errorf("no series: %v, want 0", got)
	}

	before := HistogramIn(t, reg, "latency_seconds", map[string]string{"route": "/login"})
	if before.Count != 0 || !math.IsNaN(before.Quantile(0.5)) {
		t.Errorf("nothing observed yet: %+v", before)
	}
	latency.WithLabelValues("/other", "200").Observe(0.05) // another route: not counted
	latency.WithLabelValues("/login", "200").Observe(0.05)
	mid := HistogramIn(t, reg, "latency_seconds", map[string]string{"route": "/login"})
	for range 3 {
		latency.WithLabelValues("/login", "200").Observe(0.15)
	}
	latency.WithLabelValues("/login", "401").Observe(0.3)
	latency.WithLabelValues("/login", "200").Observe(9) // beyond the last bound
	h := HistogramIn(t, reg, "latency_seconds", map[string]string{"route": "/login"}).Minus(mid)
	if h.Count != 5 || math.Abs(h.Sum-9.75) > 1e-9 {
		t.Fatalf("observations since mid: count %d sum %v, want 5 and 9.75", h.Count, h.Sum)
	}
	if got := SumIn(t, reg, "latency_seconds", map[string]string{"route": "/login"}); got != 6 {
		t.Errorf("a histogram's series count their observations: %v, want 6", got)
	}
	for _, c := range []struct{ q, want float64 }{
		{0.2, 0.1 + 0.1*1/3.0}, // rank 1 of 3 in (0.1, 0.2]
		{0.6, 0.2},             // rank 3 of 3 in (0.1, 0.2]
		{0.8, 0.4},             // rank 4: the only one in (0.2, 0.4]
		{0.99, 0.4},            // in +Inf: the highest finite bound
	} {
		if got := h.Quantile(c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("quantile %v: %v, want %v", c.q, got, c.want)
		}
	}
	if got := h.Mean(); math.Abs(got-1.95) > 1e-9 {
		t.Errorf("mean %v, want 1.95", got)
	}
}
