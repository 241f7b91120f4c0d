// Package httpmetrics times the supervisor's own HTTP endpoints (the
// namespace-management REST API, /wcp/login) for the manager's /metrics:
// supervisor_http_request_duration_seconds by API, route pattern (never
// the raw path, whose names would make unbounded series), method and
// status code.
package httpmetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "supervisor_http_request_duration_seconds",
	Help:    "Latency of the supervisor's REST and login endpoints, by API, route, method and status code.",
	Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
}, []string{"api", "route", "method", "code"})

func init() {
	metrics.Registry.MustRegister(requestDuration)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Time wraps h, the handler of route in api, so that each request's
// latency is observed.
func Time(api, route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h(rec, r)
		requestDuration.WithLabelValues(api, route, r.Method, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	}
}
