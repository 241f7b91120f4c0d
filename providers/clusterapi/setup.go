package clusterapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/clustercache"
	"sigs.k8s.io/cluster-api/controllers/remote"
	"sigs.k8s.io/cluster-api/feature"
	"sigs.k8s.io/cluster-api/util/index"
	"sigs.k8s.io/cluster-api/version"
)

// Setup registers Cluster API core, KubeadmControlPlane and the kubeadm
// bootstrap provider with mgr, in the order of Cluster API's mains: feature
// gates, indexes, the ClusterCache, reconcilers, webhooks. mgr must have been
// built with ManagerOptions and a scheme holding the Cluster API types
// (api.NewScheme). It returns the one ClusterCache of the process, which
// infrastructure providers in the same manager must share (a second one would
// collide on its controller name).
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) (clustercache.ClusterCache, error) {
	opts, err := opts.defaulted()
	if err != nil {
		return nil, err
	}
	if err := setFeatureGates(opts.FeatureGates); err != nil {
		return nil, err
	}
	minVersion := version.MinimumKubernetesVersion
	if feature.Gates.Enabled(feature.ClusterTopology) {
		minVersion = version.MinimumKubernetesVersionClusterTopology
	}
	if err := version.CheckKubernetesVersion(mgr.GetConfig(), minVersion); err != nil {
		return nil, fmt.Errorf("failed to check the API server for Cluster API: %w", err)
	}
	if err := index.AddDefaultIndexes(ctx, mgr); err != nil {
		return nil, fmt.Errorf("failed to add Cluster API's indexes: %w", err)
	}
	// Reads Secrets through the manager's cache, i.e. only the labelled,
	// trimmed ones ManagerOptions caches; the manager's own client reads
	// Secrets live.
	secretClient, err := client.New(mgr.GetConfig(), client.Options{
		HTTPClient: mgr.GetHTTPClient(),
		Scheme:     mgr.GetScheme(),
		Mapper:     mgr.GetRESTMapper(),
		Cache:      &client.CacheOptions{Reader: mgr.GetCache()},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create the Secret caching client: %w", err)
	}
	clusterCache, err := clustercache.SetupWithManager(ctx, mgr, clustercache.Options{
		SecretClient:     secretClient,
		WatchFilterValue: opts.WatchFilterValue,
		Cache: clustercache.CacheOptions{
			DefaultTransform: ctrlcache.TransformStripManagedFields(),
			// The Machine controller finds a Machine's Node by providerID.
			Indexes: []clustercache.CacheOptionsIndex{clustercache.NodeProviderIDIndex},
		},
		Client: clustercache.ClientOptions{
			QPS:       opts.ClusterCacheQPS,
			Burst:     opts.ClusterCacheBurst,
			UserAgent: remote.DefaultClusterAPIUserAgent("open-supervisor"),
			Cache:     clustercache.ClientCacheOptions{DisableFor: uncachedRemoteObjects()},
		},
	}, concurrency(100))
	if err != nil {
		return nil, fmt.Errorf("failed to set up the ClusterCache: %w", err)
	}
	if err := setupCore(ctx, mgr, clusterCache, opts); err != nil {
		return nil, err
	}
	if err := setupKubeadm(ctx, mgr, clusterCache, secretClient, opts); err != nil {
		return nil, err
	}
	if err := setupPrimers(mgr, opts.WatchFilterValue); err != nil {
		return nil, err
	}
	if err := setupWebhooks(mgr, clusterCache); err != nil {
		return nil, err
	}
	return clusterCache, nil
}

// setFeatureGates sets Cluster API's feature gates: featureGates(overrides).
func setFeatureGates(overrides map[string]bool) error {
	if err := feature.MutableGates.SetFromMap(featureGates(overrides)); err != nil {
		return fmt.Errorf("failed to set Cluster API feature gates: %w", err)
	}
	if feature.Gates.Enabled(feature.RuntimeSDK) || feature.Gates.Enabled(feature.InPlaceUpdates) {
		return errors.New("feature gates RuntimeSDK and InPlaceUpdates are not supported in-process: " +
			"their RuntimeClient is built in an internal Cluster API package")
	}
	return nil
}

// featureGates are the gates the supervisor sets, then overrides:
//   - ClusterTopology on: TanzuKubernetesClusters become topology Clusters.
//   - ReconcilerRateLimiting off (beta, on by default since Cluster API
//     1.13): it reconciles each object at most once a second, and lets
//     KubeadmControlPlane hold its next reconcile back 5 s after a failed
//     preflight check, which no event shortens. Each control plane that
//     joins fails that check while it provisions, so the seed cluster's
//     three control planes waited out the hold twice, and every step of a
//     cluster waited for the second to pass. Without it the seed cluster ran
//     in 15.9 s instead of 22 to 25 s, and twenty clusters at once used less
//     of the API server (193 CPU-seconds against 231; 961 refused Machine
//     status patches against 2485), as Cluster API ran before 1.13.
func featureGates(overrides map[string]bool) map[string]bool {
	gates := map[string]bool{
		string(feature.ClusterTopology):        true,
		string(feature.ReconcilerRateLimiting): false,
	}
	maps.Copy(gates, overrides)
	return gates
}

// concurrency returns controller options for n workers. The priority queue is
// set per controller: Cluster API's rate limiting requires it, while the
// manager's default (ControllerDefaults) keeps the supervisor's own
// controllers off it.
func concurrency(n int) controller.Options {
	return controller.Options{
		MaxConcurrentReconciles: n,
		UsePriorityQueue:        ptr.To(feature.Gates.Enabled(feature.PriorityQueue)),
	}
}

// preflightChecks turns the option into the set the MachineSet controller takes.
func preflightChecks(checks []clusterv1.MachineSetPreflightCheck) sets.Set[clusterv1.MachineSetPreflightCheck] {
	return sets.New(checks...)
}

// etcdDialTimeout is KubeadmControlPlane's default for reaching an etcd
// member through the workload API server.
const etcdDialTimeout = 10 * time.Second

// kcpReconciliationTimeout is KubeadmControlPlane's: a reconcile may talk to
// every etcd member, which takes longer than the 1m Cluster API defaults to.
const kcpReconciliationTimeout = 3 * time.Minute
