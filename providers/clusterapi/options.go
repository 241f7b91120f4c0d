package clusterapi

import (
	"errors"
	"fmt"
	"time"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/bootstrap/kubeadm/reconcilers/kubeadmconfig"
)

// ClientQPS and ClientBurst are the API server client limits Cluster API's
// controllers are built for: the sum of the defaults of its three mains
// (core, KubeadmControlPlane and the kubeadm bootstrap provider: 20 QPS and
// a burst of 30 each). Unthrottled, their 300-odd workers outrun the API
// server on a small control plane: caches lag behind their own writes, and
// every conditions patch (optimistically locked) fails and retries, which
// lags them further (20 clusters at once: up to 7,808 conflicting Machine
// status patches in one run, 283 and 1,365 in two runs at these limits).
const (
	ClientQPS   = 60
	ClientBurst = 90
)

// Options configure the in-process Cluster API. The zero value gives the
// defaults of Cluster API's own mains.
type Options struct {
	// WatchFilterValue, if set, restricts every controller to objects
	// labelled cluster.x-k8s.io/watch-filter=<value>.
	WatchFilterValue string

	// FeatureGates are applied after ClusterTopology is turned on, e.g.
	// {"MachinePool": false}. RuntimeSDK and InPlaceUpdates are refused:
	// their RuntimeClient is built in an internal Cluster API package.
	FeatureGates map[string]bool

	// RemoteConnectionGracePeriod is how long a Cluster's RemoteConnectionProbe
	// stays True after the last successful probe (default 50s).
	RemoteConnectionGracePeriod time.Duration
	// RemoteConditionsGracePeriod is how long remote conditions such as
	// NodeHealthy survive a lost connection (default 5m; at least 2m and
	// longer than RemoteConnectionGracePeriod, as the ClusterCache may take
	// 75s to notice a dead cluster).
	RemoteConditionsGracePeriod time.Duration

	// ClusterCacheQPS and ClusterCacheBurst limit each workload-cluster
	// client (default 20 and 30).
	ClusterCacheQPS   float32
	ClusterCacheBurst int

	// MachineSetPreflightChecks run before a MachineSet creates Machines
	// (nil = all of them; an empty non-nil slice = none).
	MachineSetPreflightChecks []clusterv1.MachineSetPreflightCheck

	// TokenTTL is the lifetime of kubeadm bootstrap tokens (default 15m).
	TokenTTL time.Duration

	// SyncPeriod is how often the metadata-only Secret cache of the
	// ClusterResourceSet controller resyncs (default 10m, like the manager's
	// cache that ManagerOptions sets up).
	SyncPeriod time.Duration
}

// defaulted returns o with defaults filled in, or an error for values Cluster
// API's mains refuse to start with.
func (o Options) defaulted() (Options, error) {
	if o.RemoteConnectionGracePeriod == 0 {
		o.RemoteConnectionGracePeriod = 50 * time.Second
	}
	if o.RemoteConditionsGracePeriod == 0 {
		o.RemoteConditionsGracePeriod = 5 * time.Minute
	}
	if o.RemoteConditionsGracePeriod < 2*time.Minute {
		return o, errors.New("RemoteConditionsGracePeriod must be at least 2m")
	}
	if o.RemoteConditionsGracePeriod <= o.RemoteConnectionGracePeriod {
		return o, fmt.Errorf("RemoteConditionsGracePeriod (%s) must be longer than RemoteConnectionGracePeriod (%s)",
			o.RemoteConditionsGracePeriod, o.RemoteConnectionGracePeriod)
	}
	if o.ClusterCacheQPS == 0 {
		o.ClusterCacheQPS = 20
	}
	if o.ClusterCacheBurst == 0 {
		o.ClusterCacheBurst = 30
	}
	if o.MachineSetPreflightChecks == nil {
		o.MachineSetPreflightChecks = []clusterv1.MachineSetPreflightCheck{clusterv1.MachineSetPreflightCheckAll}
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = kubeadmconfig.DefaultTokenTTL
	}
	if o.SyncPeriod == 0 {
		o.SyncPeriod = defaultSyncPeriod
	}
	return o, nil
}
