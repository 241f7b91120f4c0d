// Package metrics reads the manager's Prometheus registry as /metrics
// shows it, for tests and benchmarks that count what the supervisor did.
// Benchmarks report differences of these readings, so the figures they
// publish are the ones an operator's Prometheus sees.
package metrics

import (
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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
	for _, m := range matching(t, g, name, labels) {
		return value(m)
	}
	return 0
}

// Sum is the sum of the values of every series of family name whose
// labels include labels: a counter's total over all its methods, results
// or reasons. A histogram's series count their observations.
func Sum(t tb.TB, name string, labels map[string]string) float64 {
	t.Helper()
	return SumIn(t, metrics.Registry, name, labels)
}

// SumIn is Sum read from registry g.
func SumIn(t tb.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	var sum float64
	for _, m := range matching(t, g, name, labels) {
		sum += value(m)
	}
	return sum
}

// By is Sum split by the value of label key (a counter by method, say).
func By(t tb.TB, name string, labels map[string]string, key string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range matching(t, metrics.Registry, name, labels) {
		for _, l := range m.GetLabel() {
			if l.GetName() == key {
				out[l.GetValue()] += value(m)
			}
		}
	}
	return out
}

// Count is the number of series of family name whose labels include
// labels: whether a series is exported at all.
func Count(t tb.TB, name string, labels map[string]string) int {
	t.Helper()
	return len(matching(t, metrics.Registry, name, labels))
}

// Hist is a histogram's observations, merged over series.
type Hist struct {
	// Count and Sum are the number and the sum of the observations.
	Count uint64
	Sum   float64
	// Buckets are the cumulative counts by upper bound, ascending; the
	// +Inf bucket is Count.
	Buckets []Bucket
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound float64
	Count      uint64
}

// Histogram is the histogram family name merged over every series whose
// labels include labels (a route's observations of every status code).
func Histogram(t tb.TB, name string, labels map[string]string) Hist {
	t.Helper()
	return HistogramIn(t, metrics.Registry, name, labels)
}

// HistogramIn is Histogram read from registry g.
func HistogramIn(t tb.TB, g prometheus.Gatherer, name string, labels map[string]string) Hist {
	t.Helper()
	var h Hist
	byBound := map[float64]uint64{}
	for _, m := range matching(t, g, name, labels) {
		mh := m.GetHistogram()
		if mh == nil {
			t.Fatalf("metric %s is not a histogram", name)
		}
		h.Count += mh.GetSampleCount()
		h.Sum += mh.GetSampleSum()
		for _, b := range mh.GetBucket() {
			byBound[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	for ub, n := range byBound {
		if !math.IsInf(ub, 1) {
			h.Buckets = append(h.Buckets, Bucket{UpperBound: ub, Count: n})
		}
	}
	sort.Slice(h.Buckets, func(i, j int) bool { return h.Buckets[i].UpperBound < h.Buckets[j].UpperBound })
	return h
}

// Minus is the observations made since before, an earlier reading of the
// same histogram.
func (h Hist) Minus(before Hist) Hist {
	out := Hist{Count: h.Count - before.Count, Sum: h.Sum - before.Sum}
	prior := map[float64]uint64{}
	for _, b := range before.Buckets {
		prior[b.UpperBound] = b.Count
	}
	for _, b := range h.Buckets {
		out.Buckets = append(out.Buckets, Bucket{UpperBound: b.UpperBound, Count: b.Count - prior[b.UpperBound]})
	}
	return out
}

// Mean is the observations' average; 0 without any.
func (h Hist) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / float64(h.Count)
}

// Quantile estimates the q-quantile as Prometheus's histogram_quantile
// does: linearly within the bucket that holds it, from 0 for the first
// bucket; in the +Inf bucket it is the highest finite bound. NaN without
// observations.
func (h Hist) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Buckets) == 0 {
		return math.NaN()
	}
	rank := q * float64(h.Count)
	lower, below := 0.0, uint64(0)
	for _, b := range h.Buckets {
		if float64(b.Count) >= rank {
			if b.Count == below {
				return b.UpperBound
			}
			return lower + (b.UpperBound-lower)*(rank-float64(below))/float64(b.Count-below)
		}
		lower, below = b.UpperBound, b.Count
	}
	return h.Buckets[len(h.Buckets)-1].UpperBound
}

// matching gathers g and returns the series of family name whose labels
// include labels.
func matching(t tb.TB, g prometheus.Gatherer, name string, labels map[string]string) []*dto.Metric {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.Metric
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
			out = append(out, m)
		}
	}
	return out
}

// value is a counter's or a gauge's value, or a histogram's count.
func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetGauge().GetValue()
}
