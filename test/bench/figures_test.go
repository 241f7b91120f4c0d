package bench

import (
	"fmt"
	"testing"

	testmetrics "github.com/open-supervisor/supervisor/test/metrics"
)

// figures are the supervisor's counters as its /metrics shows them (the
// manager runs in the test process, so its registry is this process's).
// Benchmarks report the difference of two readings, so what they publish
// is what an operator's Prometheus sees.
type figures struct {
	// vcenterCalls are SOAP calls (supervisor_vcenter_calls_total, every
	// method and result).
	vcenterCalls float64
	// soapLogins and restLogins are vCenter logins, new sessions and
	// re-logins (supervisor_vcenter_logins_total and
	// supervisor_vcenter_rest_logins_total).
	soapLogins, restLogins float64
	// dataplaneRequests, transactions and reloads are lbapi's
	// (supervisor_lbapi_dataplane_requests_total,
	// supervisor_haproxy_transactions_total, supervisor_haproxy_reloads_total
	// of every result); failedReloads those whose result is failed.
	dataplaneRequests, transactions, reloads, failedReloads float64
}

// readFigures reads the registry.
func readFigures(b *testing.B) figures {
	b.Helper()
	sum := func(name string, labels map[string]string) float64 { return testmetrics.Sum(b, name, labels) }
	return figures{
		vcenterCalls:      sum("supervisor_vcenter_calls_total", nil),
		soapLogins:        sum("supervisor_vcenter_logins_total", nil),
		restLogins:        sum("supervisor_vcenter_rest_logins_total", nil),
		dataplaneRequests: sum("supervisor_lbapi_dataplane_requests_total", nil),
		transactions:      sum("supervisor_haproxy_transactions_total", nil),
		reloads:           sum("supervisor_haproxy_reloads_total", nil),
		failedReloads:     sum("supervisor_haproxy_reloads_total", map[string]string{"result": "failed"}),
	}
}

// minus is what was counted since before.
func (f figures) minus(before figures) figures {
	return figures{
		vcenterCalls:      f.vcenterCalls - before.vcenterCalls,
		soapLogins:        f.soapLogins - before.soapLogins,
		restLogins:        f.restLogins - before.restLogins,
		dataplaneRequests: f.dataplaneRequests - before.dataplaneRequests,
		transactions:      f.transactions - before.transactions,
		reloads:           f.reloads - before.reloads,
		failedReloads:     f.failedReloads - before.failedReloads,
	}
}

// logins are vCenter logins of both APIs.
func (f figures) logins() float64 { return f.soapLogins + f.restLogins }

// routeLatencies reads supervisor_http_request_duration_seconds of one route
// and method of an API, every status code.
func routeLatencies(b *testing.B, api, method, route string) testmetrics.Hist {
	b.Helper()
	return testmetrics.Histogram(b, "supervisor_http_request_duration_seconds", map[string]string{"api": api, "method": method, "route": route})
}

// histogramRow is a table row of what /metrics shows of the requests a
// benchmark made (h, the difference of two readings): the p50 and p99 as
// Prometheus's histogram_quantile estimates them from the buckets, and
// the mean. It fails the benchmark unless the histogram counted exactly
// the requests the benchmark made.
func histogramRow(b *testing.B, what string, h testmetrics.Hist, requests int) string {
	b.Helper()
	if h.Count != uint64(requests) {
		b.Errorf("%s: /metrics counted %d requests, the benchmark made %d", what, h.Count, requests)
	}
	return fmt.Sprintf("| %s as `/metrics` shows it (`supervisor_http_request_duration_seconds`, %d requests), p50 / p99 / mean | %.0f / %.0f / %.0f ms | – | – |\n",
		what, h.Count, 1000*h.Quantile(0.50), 1000*h.Quantile(0.99), 1000*h.Mean())
}
