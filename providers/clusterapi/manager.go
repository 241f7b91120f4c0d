package clusterapi

import (
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	capicontrollerutil "sigs.k8s.io/cluster-api/util/controller"
	"sigs.k8s.io/cluster-api/util/secret"
)

// defaultSyncPeriod is Cluster API's --sync-period default: its controllers
// count on a resync far more often than controller-runtime's 10h.
const defaultSyncPeriod = 10 * time.Minute

// informerName names the manager's informers in logs and metrics.
const informerName = "open-supervisor"

// newInformerOnce guards capicontrollerutil.NewInformerFunc, which panics when
// a name is registered twice in a process (a test starting a second manager).
var newInformerOnce sync.Once

// ManagerOptions returns opts with what Cluster API's controllers need from
// the manager's cache and client merged in (opts.Scheme must be set, e.g.
// api.NewScheme()):
//
//   - Secrets are cached only when labelled cluster.x-k8s.io/cluster-name, and
//     only those named <cluster>-{kubeconfig,ca,etcd,sa,proxy,
//     apiserver-etcd-client} keep their data (KubeadmControlPlane needs the
//     CA keys). The manager's client reads Secrets and ConfigMaps live, so
//     other controllers still see every Secret.
//   - Unstructured objects (infrastructure and bootstrap objects Cluster API
//     knows only by contract) are read from the cache.
//   - The cache resyncs every 10m unless opts say otherwise.
//   - Controllers use client-go's rate-limited work queue unless opts say
//     otherwise (see ControllerDefaults); Cluster API's own controllers ask
//     for the priority queue one by one, as their rate limiting needs it.
//
// KubeadmControlPlane's and the bootstrap provider's other presets (blanked
// worker Machines, only control-plane KubeadmConfigs, blanked MachineSets) are
// left out on purpose: in one shared cache they would break the core Machine,
// MachineSet and MachineDeployment controllers and bootstrap for workers.
func ManagerOptions(opts ctrl.Options) (ctrl.Options, error) {
	if opts.Scheme == nil {
		return opts, errors.New("ManagerOptions needs the manager's Scheme")
	}
	byObject := make(map[client.Object]ctrlcache.ByObject, len(opts.Cache.ByObject)+1)
	for obj, by := range opts.Cache.ByObject {
		if _, ok := obj.(*corev1.Secret); ok {
			return opts, errors.New("the manager's cache already configures Secrets; Cluster API needs to filter them")
		}
		byObject[obj] = by
	}
	byObject[&corev1.Secret{}] = clusterSecrets()
	opts.Cache.ByObject = byObject
	if opts.Cache.SyncPeriod == nil {
		period := defaultSyncPeriod
		opts.Cache.SyncPeriod = &period
	}
	if opts.Cache.NewInformer == nil {
		newInformerOnce.Do(func() {
			opts.Cache.NewInformer = capicontrollerutil.NewInformerFunc(opts.Scheme, informerName)
		})
	}

	opts.Controller = ControllerDefaults(opts.Controller)

	cacheOpts := client.CacheOptions{}
	if opts.Client.Cache != nil {
		cacheOpts = *opts.Client.Cache
	}
	cacheOpts.DisableFor = append(append([]client.Object{}, cacheOpts.DisableFor...), &corev1.ConfigMap{}, &corev1.Secret{})
	cacheOpts.Unstructured = true
	opts.Client.Cache = &cacheOpts
	return opts, nil
}

// clusterSecrets caches only Secrets that belong to a Cluster, and of those
// keeps the data of the ones Cluster API reads (secret.HasPurposeSuffix), the
// preset of KubeadmControlPlane and the bootstrap provider. Core's preset
// keeps only kubeconfigs, which would hide the CA from KubeadmControlPlane.
func clusterSecrets() ctrlcache.ByObject {
	req, err := labels.NewRequirement(clusterv1.ClusterNameLabel, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant label key
	}
	return ctrlcache.ByObject{
		Label: labels.NewSelector().Add(*req),
		Transform: func(in any) (any, error) {
			if s, ok := in.(*corev1.Secret); ok {
				s.SetManagedFields(nil)
				if !secret.HasPurposeSuffix(s.Name) {
					s.Data = nil
				}
			}
			return in, nil
		},
	}
}

// ControllerDefaults returns c with the supervisor's own controllers on
// client-go's rate-limited work queue rather than controller-runtime's
// priority queue, unless c chooses. In controller-runtime v0.24.1 the
// priority queue can hang its controller's shutdown: a ready item is handed
// to a worker that already left on shutdown, and the send blocks forever
// holding the lock every finishing worker needs, so the manager runs out of
// its grace period (controller-runtime issue 3538, fixed by pull request
// 3540 in a release that needs Kubernetes 0.37 libraries).
func ControllerDefaults(c config.Controller) config.Controller {
	if c.UsePriorityQueue == nil {
		c.UsePriorityQueue = ptr.To(false)
	}
	return c
}
