package haproxy

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Prometheus metrics of what the applier did, on the manager's /metrics.
var (
	transactionsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "supervisor_haproxy_transactions_total",
		Help: "Data Plane API transactions committed.",
	})
	reloadsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisor_haproxy_reloads_total",
		Help: "HAProxy reloads the applier waited for, by result: succeeded, failed, or unrecorded (the API keeps no record of it).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(transactionsTotal, reloadsTotal)
}
