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
		Help: "HAProxy reloads the applier waited for, by result: succeeded, failed, or unrecorded (the API keeps no record of it). A forced reload (force_reload=true) counts when its commit answers.",
	}, []string{"result"})
	commitConfirmationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisor_haproxy_commit_confirmations_total",
		Help: "Commits checked against what the running HAProxy process reports (stats/native), by result: live; not_live (its reload was not reported failed, yet the process did not run the commit within the confirm timeout: a failed reload the Data Plane API could not see); unavailable (the API has no stats endpoint, so the reload status was trusted).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(transactionsTotal, reloadsTotal, commitConfirmationsTotal)
}
