package clusterapi

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"sigs.k8s.io/cluster-api/bootstrap/kubeadm/reconcilers/kubeadmconfig"
	"sigs.k8s.io/cluster-api/controllers/clustercache"
	"sigs.k8s.io/cluster-api/controlplane/kubeadm/pkg/etcd"
	"sigs.k8s.io/cluster-api/controlplane/kubeadm/reconcilers/kubeadmcontrolplane"
	"sigs.k8s.io/cluster-api/core/reconcilers/cluster"
	"sigs.k8s.io/cluster-api/core/reconcilers/clusterclass"
	"sigs.k8s.io/cluster-api/core/reconcilers/clusterresourceset"
	"sigs.k8s.io/cluster-api/core/reconcilers/clusterresourcesetbinding"
	"sigs.k8s.io/cluster-api/core/reconcilers/machine"
	"sigs.k8s.io/cluster-api/core/reconcilers/machinedeployment"
	"sigs.k8s.io/cluster-api/core/reconcilers/machinehealthcheck"
	"sigs.k8s.io/cluster-api/core/reconcilers/machinepool"
	"sigs.k8s.io/cluster-api/core/reconcilers/machineset"
	topologycluster "sigs.k8s.io/cluster-api/core/reconcilers/topology/cluster"
	topologymachinedeployment "sigs.k8s.io/cluster-api/core/reconcilers/topology/machinedeployment"
	topologymachineset "sigs.k8s.io/cluster-api/core/reconcilers/topology/machineset"
	"sigs.k8s.io/cluster-api/feature"
)

// setupCore registers the core reconcilers with core main.go's concurrency.
// The ExtensionConfig reconciler is left out with RuntimeSDK, which Setup
// refuses.
func setupCore(ctx context.Context, mgr ctrl.Manager, clusterCache clustercache.ClusterCache, opts Options) error {
	c, reader, filter := mgr.GetClient(), mgr.GetAPIReader(), opts.WatchFilterValue
	type reconciler interface {
		SetupWithManager(context.Context, ctrl.Manager, controller.Options) error
	}
	type entry struct {
		name    string
		workers int
		r       reconciler
	}
	var entries []entry
	if feature.Gates.Enabled(feature.ClusterTopology) {
		entries = append(entries,
			entry{"ClusterClass", 10, &clusterclass.Reconciler{Client: c, WatchFilterValue: filter}},
			entry{"ClusterTopology", 50, &topologycluster.Reconciler{Client: c, APIReader: reader, ClusterCache: clusterCache, WatchFilterValue: filter}},
			entry{"MachineDeploymentTopology", 25, &topologymachinedeployment.Reconciler{Client: c, APIReader: reader, WatchFilterValue: filter}},
			entry{"MachineSetTopology", 25, &topologymachineset.Reconciler{Client: c, APIReader: reader, WatchFilterValue: filter}},
		)
	}
	entries = append(entries,
		entry{"Cluster", 50, &cluster.Reconciler{Client: c, APIReader: reader, ClusterCache: clusterCache,
			RemoteConnectionGracePeriod: opts.RemoteConnectionGracePeriod, WatchFilterValue: filter}},
		entry{"Machine", 100, &machine.Reconciler{Client: c, APIReader: reader, ClusterCache: clusterCache,
			RemoteConditionsGracePeriod: opts.RemoteConditionsGracePeriod, WatchFilterValue: filter}},
		entry{"MachineSet", 50, &machineset.Reconciler{Client: c, APIReader: reader, ClusterCache: clusterCache,
			PreflightChecks: preflightChecks(opts.MachineSetPreflightChecks), WatchFilterValue: filter}},
		entry{"MachineDeployment", 50, &machinedeployment.Reconciler{Client: c, APIReader: reader, WatchFilterValue: filter}},
	)
	if feature.Gates.Enabled(feature.MachinePool) {
		entries = append(entries,
			entry{"MachinePool", 50, &machinepool.Reconciler{Client: c, APIReader: reader, ClusterCache: clusterCache, WatchFilterValue: filter}})
	}
	entries = append(entries,
		entry{"ClusterResourceSetBinding", 10, &clusterresourcesetbinding.Reconciler{Client: c, WatchFilterValue: filter}},
		entry{"MachineHealthCheck", 50, &machinehealthcheck.Reconciler{Client: c, ClusterCache: clusterCache, WatchFilterValue: filter}},
	)
	for _, e := range entries {
		if err := e.r.SetupWithManager(ctx, mgr, concurrency(e.workers)); err != nil {
			return fmt.Errorf("failed to set up the Cluster API %s controller: %w", e.name, err)
		}
	}

	// ClusterResourceSets watch Secrets of any name, which the manager's
	// cache filters out, so they get a metadata-only Secret cache of their own.
	secrets, err := partialSecretCache(mgr, opts)
	if err != nil {
		return err
	}
	if err := (&clusterresourceset.Reconciler{Client: c, ClusterCache: clusterCache, WatchFilterValue: filter}).
		SetupWithManager(ctx, mgr, concurrency(10), secrets); err != nil {
		return fmt.Errorf("failed to set up the Cluster API ClusterResourceSet controller: %w", err)
	}
	return nil
}

// setupKubeadm registers KubeadmControlPlane and the kubeadm bootstrap
// provider with their mains' settings.
func setupKubeadm(ctx context.Context, mgr ctrl.Manager, clusterCache clustercache.ClusterCache, secretClient client.Client, opts Options) error {
	kcpOpts := concurrency(100)
	kcpOpts.ReconciliationTimeout = kcpReconciliationTimeout
	if err := (&kubeadmcontrolplane.Reconciler{
		Client:                      mgr.GetClient(),
		APIReader:                   mgr.GetAPIReader(),
		SecretCachingClient:         secretClient,
		ClusterCache:                clusterCache,
		WatchFilterValue:            opts.WatchFilterValue,
		EtcdDialTimeout:             etcdDialTimeout,
		EtcdCallTimeout:             etcd.DefaultCallTimeout,
		RemoteConditionsGracePeriod: opts.RemoteConditionsGracePeriod,
	}).SetupWithManager(ctx, mgr, kcpOpts); err != nil {
		return fmt.Errorf("failed to set up the KubeadmControlPlane controller: %w", err)
	}
	if err := (&kubeadmconfig.Reconciler{
		Client:              mgr.GetClient(),
		SecretCachingClient: secretClient,
		APIReader:           mgr.GetAPIReader(),
		ClusterCache:        clusterCache,
		WatchFilterValue:    opts.WatchFilterValue,
		TokenTTL:            opts.TokenTTL,
	}).SetupWithManager(ctx, mgr, concurrency(100)); err != nil {
		return fmt.Errorf("failed to set up the KubeadmConfig controller: %w", err)
	}
	return nil
}

// partialSecretCache is core main.go's metadata-only cache of all Secrets,
// run by the manager.
func partialSecretCache(mgr ctrl.Manager, opts Options) (ctrlcache.Cache, error) {
	period := opts.SyncPeriod
	c, err := ctrlcache.New(mgr.GetConfig(), ctrlcache.Options{
		Scheme:     mgr.GetScheme(),
		Mapper:     mgr.GetRESTMapper(),
		HTTPClient: mgr.GetHTTPClient(),
		SyncPeriod: &period,
		DefaultTransform: func(in any) (any, error) {
			// Only PartialObjectMetadata of Secrets gets here; drop what
			// nobody reads.
			if obj, ok := in.(*metav1.PartialObjectMetadata); ok {
				obj.SetManagedFields(nil)
			}
			return in, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create the metadata-only Secret cache: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, fmt.Errorf("failed to add the metadata-only Secret cache: %w", err)
	}
	return c, nil
}

// uncachedRemoteObjects are read live from workload clusters: the union of
// what core and KubeadmControlPlane keep out of their ClusterCache caches
// (Secrets and ConfigMaps; Pods, DaemonSets and volumes read during drain;
// Deployments KCP patches).
func uncachedRemoteObjects() []client.Object {
	return []client.Object{
		&corev1.ConfigMap{}, &corev1.Secret{}, &corev1.Pod{}, &corev1.PersistentVolume{},
		&appsv1.DaemonSet{}, &appsv1.Deployment{}, &storagev1.VolumeAttachment{},
	}
}
