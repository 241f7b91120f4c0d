package clusterapi

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/annotations"
	"sigs.k8s.io/cluster-api/util/conditions"
	"sigs.k8s.io/cluster-api/util/predicates"
)

// pausedPrimer gives a Machine or KubeadmConfig of an unpaused Cluster the
// Paused condition (False, NotPaused) as soon as it is created, the value
// Cluster API's paused.EnsurePausedCondition computes for it.
//
// Why: Cluster API's controllers spend a reconcile on that condition before
// any work, and with its ReconcilerRateLimiting gate on (Cluster API's
// default; the supervisor turns it off, featureGates) each object is
// reconciled at most once a second. The first reconcile of a
// KubeadmControlPlane's Machine adds the Machine finalizer, so its real work
// came 2 s after its creation; a KubeadmConfig's first reconcile finds no
// Machine owner yet, so its bootstrap data came a second after the owner was
// set. Both stood three
// times in a row on the seed cluster's path (its three control planes join
// one after the other). With the condition already there, the Machine works
// on its second reconcile and the KubeadmConfig on the one its owner wakes.
//
// Cluster API's own protections are untouched: its rate limiting and
// stale-cache checks run as before, it recomputes the condition on every
// reconcile (a Cluster paused meanwhile turns it True), and the status patch
// is guarded by the resourceVersion read, so a controller that wrote first
// wins and nothing it wrote is overwritten.
type pausedPrimer[T interface {
	client.Object
	conditions.Setter
}] struct {
	client  client.Client
	newObj  func() T
	cluster func(T) string
}

func (r *pausedPrimer[T]) setupWithManager(mgr ctrl.Manager, name, watchFilterValue string) error {
	return setupPrimer(mgr, name, r.newObj(), predicate.NewPredicateFuncs(func(o client.Object) bool {
		obj, ok := o.(T)
		return ok && needsPausedCondition(obj)
	}), watchFilterValue, r)
}

// setupPrimer registers a primer: a small controller named name, for the
// events of obj's kind that pass pred and carry the watch filter label.
func setupPrimer(mgr ctrl.Manager, name string, obj client.Object, pred predicate.Predicate, watchFilterValue string, r reconcile.Reconciler) error {
	log := mgr.GetLogger().WithValues("controller", name)
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(obj, builder.WithPredicates(pred, predicates.ResourceHasFilterLabel(mgr.GetScheme(), log, watchFilterValue))).
		WithOptions(controller.Options{MaxConcurrentReconciles: 10}).
		Complete(r)
}

// needsPausedCondition: only objects Cluster API has not marked yet, and not
// being deleted.
func needsPausedCondition(obj conditions.Setter) bool {
	o, ok := obj.(client.Object)
	return ok && o.GetDeletionTimestamp().IsZero() && conditions.Get(obj, clusterv1.PausedCondition) == nil
}

func (r *pausedPrimer[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.newObj()
	if err := r.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !needsPausedCondition(obj) {
		return ctrl.Result{}, nil
	}
	clusterName := r.cluster(obj)
	if clusterName == "" {
		return ctrl.Result{}, nil
	}
	cluster := &clusterv1.Cluster{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: obj.GetNamespace(), Name: clusterName}, cluster); err != nil {
		// No Cluster (yet): Cluster API's controllers wait for it too, and
		// set the condition themselves once it is there.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	condition, ok := notPausedCondition(cluster, obj)
	if !ok {
		return ctrl.Result{}, nil
	}
	base := obj.DeepCopyObject().(client.Object)
	conditions.Set(obj, condition)
	err := r.client.Status().Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		// Changed since the cache was read (typically Cluster API adding
		// the Machine finalizer): the change's own event brings the object
		// back here, and the predicate drops it if the condition is set.
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to set the Paused condition of %s: %w", klog.KObj(obj), err)
	}
	return ctrl.Result{}, nil
}

// notPausedCondition is the Paused condition Cluster API would set on obj
// of cluster, when that is False; ok is false when the object or its Cluster
// is paused: then Cluster API sets it True itself and stops there.
func notPausedCondition(cluster *clusterv1.Cluster, obj metav1.Object) (c metav1.Condition, ok bool) {
	if annotations.IsPaused(cluster, obj) {
		return metav1.Condition{}, false
	}
	return metav1.Condition{
		Type:               clusterv1.PausedCondition,
		Status:             metav1.ConditionFalse,
		Reason:             clusterv1.NotPausedReason,
		ObservedGeneration: obj.GetGeneration(),
	}, true
}

// Cluster API's own ClusterRoles grant these too; the markers say what the
// primers need.
// +kubebuilder:rbac:groups=controlplane.cluster.x-k8s.io,resources=kubeadmcontrolplanes,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=machines,verbs=get;list;watch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=machines/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bootstrap.cluster.x-k8s.io,resources=kubeadmconfigs,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vspheremachines,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=bootstrap.cluster.x-k8s.io,resources=kubeadmconfigs/status,verbs=get;update;patch

// setupPrimers registers the primers: the Paused condition of Machines and
// KubeadmConfigs, the hand-over of a Machine's objects to it, the finalizer
// of KubeadmControlPlanes.
func setupPrimers(mgr ctrl.Manager, watchFilterValue string) error {
	machines := &pausedPrimer[*clusterv1.Machine]{
		client:  mgr.GetClient(),
		newObj:  func() *clusterv1.Machine { return &clusterv1.Machine{} },
		cluster: func(m *clusterv1.Machine) string { return m.Spec.ClusterName },
	}
	if err := machines.setupWithManager(mgr, "machine-paused-condition", watchFilterValue); err != nil {
		return fmt.Errorf("failed to set up the Machine Paused condition controller: %w", err)
	}
	configs := &pausedPrimer[*bootstrapv1.KubeadmConfig]{
		client: mgr.GetClient(),
		newObj: func() *bootstrapv1.KubeadmConfig { return &bootstrapv1.KubeadmConfig{} },
		// The label every KubeadmConfig a KubeadmControlPlane or MachineSet
		// creates carries; Cluster API itself goes through the owner Machine.
		cluster: func(c *bootstrapv1.KubeadmConfig) string { return c.Labels[clusterv1.ClusterNameLabel] },
	}
	if err := configs.setupWithManager(mgr, "kubeadmconfig-paused-condition", watchFilterValue); err != nil {
		return fmt.Errorf("failed to set up the KubeadmConfig Paused condition controller: %w", err)
	}
	if err := (&ownershipPrimer{client: mgr.GetClient()}).setupWithManager(mgr, watchFilterValue); err != nil {
		return fmt.Errorf("failed to set up the Machine ownership controller: %w", err)
	}
	if err := (&finalizerPrimer{client: mgr.GetClient()}).setupWithManager(mgr, watchFilterValue); err != nil {
		return fmt.Errorf("failed to set up the KubeadmControlPlane finalizer controller: %w", err)
	}
	return nil
}

// finalizerPrimer adds KubeadmControlPlane's finalizer to a control plane
// as soon as its Cluster owns it: the first thing KubeadmControlPlane does
// then, in a reconcile of its own, before its next one (a second later)
// starts the work. Before the Cluster owns it, KubeadmControlPlane does
// not add it either: it could not find the Cluster to clean up with.
type finalizerPrimer struct {
	client client.Client
}

func (r *finalizerPrimer) setupWithManager(mgr ctrl.Manager, watchFilterValue string) error {
	return setupPrimer(mgr, "kubeadmcontrolplane-finalizer", &controlplanev1.KubeadmControlPlane{},
		predicate.NewPredicateFuncs(needsFinalizer), watchFilterValue, r)
}

// needsFinalizer: a control plane its Cluster owns, without the finalizer,
// not being deleted.
func needsFinalizer(o client.Object) bool {
	owned := slices.ContainsFunc(o.GetOwnerReferences(), func(ref metav1.OwnerReference) bool {
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		return err == nil && gv.Group == clusterv1.GroupVersion.Group && ref.Kind == "Cluster"
	})
	return owned && o.GetDeletionTimestamp().IsZero() &&
		!controllerutil.ContainsFinalizer(o, controlplanev1.KubeadmControlPlaneFinalizer)
}

func (r *finalizerPrimer) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	kcp := &controlplanev1.KubeadmControlPlane{}
	if err := r.client.Get(ctx, req.NamespacedName, kcp); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !needsFinalizer(kcp) {
		return ctrl.Result{}, nil
	}
	base := kcp.DeepCopy()
	controllerutil.AddFinalizer(kcp, controlplanev1.KubeadmControlPlaneFinalizer)
	err := r.client.Patch(ctx, kcp, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return ctrl.Result{}, nil // as for the Paused condition
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to add the finalizer of KubeadmControlPlane %s: %w", klog.KObj(kcp), err)
	}
	return ctrl.Result{}, nil
}
