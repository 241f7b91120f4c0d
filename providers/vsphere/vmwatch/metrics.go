package vmwatch

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// vmsFollowed is supervisor_vmwatch_vms on /metrics: how many VMs the
// watch holds, to set beside the VirtualMachines the supervisor manages
// (a watch that lags behind a burst holds fewer).
var vmsFollowed = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "supervisor_vmwatch_vms",
	Help: "VMs the vCenter VM watch follows.",
})

func init() {
	metrics.Registry.MustRegister(vmsFollowed)
}
