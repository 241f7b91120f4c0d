package virtualmachine

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// vmsManaged is supervisor_vmwatch_vms_managed on /metrics: the
// VirtualMachines the supervisor manages (those carrying its finalizer, so
// with a VM in vCenter or one to come), to set beside
// supervisor_vmwatch_vms, the VMs the watch follows: a watch that lags
// behind follows fewer than are managed.
var vmsManaged = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "supervisor_vmwatch_vms_managed",
	Help: "VirtualMachines the supervisor manages (with its finalizer), beside supervisor_vmwatch_vms, the VMs the vCenter VM watch follows.",
})

func init() {
	metrics.Registry.MustRegister(vmsManaged)
}

// managedSet is the VirtualMachines a reconciler manages, by name.
type managedSet struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]struct{}
}

// set records whether key is managed and publishes the count.
func (m *managedSet) set(key types.NamespacedName, managed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[types.NamespacedName]struct{}{}
	}
	if managed {
		m.keys[key] = struct{}{}
	} else {
		delete(m.keys, key)
	}
	vmsManaged.Set(float64(len(m.keys)))
}
