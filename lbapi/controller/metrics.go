package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Prometheus metrics of the load balancer, on the manager's /metrics.
var (
	dataplaneRequests = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "supervisor_lbapi_dataplane_requests_total",
		Help: "HTTP requests sent to the HAProxy Data Plane API.",
	})
	refusalsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisor_lbapi_refusals_total",
		Help: "Services newly refused a VIP or a configuration, by reason (the LoadBalancer condition's).",
	}, []string{"reason"})
	vipAddresses = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "supervisor_lbapi_vip_addresses",
		Help: "VIP addresses of a LoadBalancer's ranges, by state: in_use or free.",
	}, []string{"loadbalancer", "state"})
)

func init() {
	metrics.Registry.MustRegister(dataplaneRequests, refusalsTotal, vipAddresses)
}
