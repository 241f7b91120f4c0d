package session

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Prometheus metrics of the sessions, on the manager's /metrics.
var (
	vcenterCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisor_vcenter_calls_total",
		Help: "SOAP calls made to vCenter, by method and result (ok, fault, error).",
	}, []string{"method", "result"})
	vcenterLogins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisor_vcenter_logins_total",
		Help: "Logins to vCenter, by reason: a new session, or again after vCenter dropped one.",
	}, []string{"reason"})
	vcenterRESTLogins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisor_vcenter_rest_logins_total",
		Help: "Logins to vCenter's REST API beside the SOAP session, by reason (new, relogin); none on vCenter 8.0 U3 and later, where REST calls ride on the SOAP session.",
	}, []string{"reason"})
)

func init() {
	metrics.Registry.MustRegister(vcenterCalls, vcenterLogins, vcenterRESTLogins)
}

// callResult is a call's result label: ok, a vCenter fault, or another
// error (transport, TLS, timeout).
func callResult(err error, isFault bool) string {
	switch {
	case err == nil:
		return "ok"
	case isFault:
		return "fault"
	}
	return "error"
}
