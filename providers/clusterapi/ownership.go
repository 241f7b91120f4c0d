package clusterapi

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/external"
	"sigs.k8s.io/cluster-api/util/annotations"
)

// ownershipPrimer hands a new Machine its bootstrap config and its
// infrastructure machine as soon as the Machine has its finalizer, the way
// Cluster API's Machine controller does it (ensureExternalOwnershipAndWatch):
// the owner references of the MachineSet or control plane that created
// them go, the Machine becomes their controller, and they get the
// cluster-name label.
//
// Why: the Machine controller adds its finalizer in its first reconcile and
// hands the objects over only in its second: a second later when Cluster
// API's ReconcilerRateLimiting gate is on (its default; the supervisor
// turns it off, featureGates), and otherwise once the first one's write has
// come back through its cache. Until then neither the kubeadm bootstrap
// provider nor the infrastructure provider has a Machine to work for, so
// every Machine's bootstrap data, and its VM, waited that much more; the
// seed cluster's three control planes join one after the other, so it
// stood three times on its path.
//
// Cluster API's own step is unchanged: it finds the objects as it would
// have left them and moves on. The patch is guarded by the resourceVersion
// read, so nothing written meanwhile is lost; a conflict is tried again.
// Paused Clusters and Machines, and objects another controller already
// controls, are left alone, as Cluster API leaves them.
type ownershipPrimer struct {
	client client.Client
}

func (r *ownershipPrimer) setupWithManager(mgr ctrl.Manager, watchFilterValue string) error {
	// Only when a Machine turns ready for it (or is first seen so): the
	// primer saves time only then, and a Machine's many status updates
	// afterwards need nothing of it.
	return setupPrimer(mgr, "machine-ownership", &clusterv1.Machine{}, predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return isReadyForOwnership(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return isReadyForOwnership(e.ObjectNew) && !isReadyForOwnership(e.ObjectOld)
		},
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}, watchFilterValue, r)
}

func isReadyForOwnership(o client.Object) bool {
	m, ok := o.(*clusterv1.Machine)
	return ok && readyForOwnership(m)
}

// readyForOwnership: a Machine Cluster API has started on (its finalizer is
// there) that is not being deleted.
func readyForOwnership(m *clusterv1.Machine) bool {
	return m.DeletionTimestamp.IsZero() && controllerutil.ContainsFinalizer(m, clusterv1.MachineFinalizer) &&
		(m.Spec.Bootstrap.ConfigRef.IsDefined() || m.Spec.InfrastructureRef.IsDefined())
}

func (r *ownershipPrimer) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	m := &clusterv1.Machine{}
	if err := r.client.Get(ctx, req.NamespacedName, m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !readyForOwnership(m) {
		return ctrl.Result{}, nil
	}
	cluster := &clusterv1.Cluster{}
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Spec.ClusterName}, cluster); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err) // Cluster API waits for it too
	}
	if annotations.IsPaused(cluster, m) {
		return ctrl.Result{}, nil
	}
	var errs []error
	requeue := false
	for _, ref := range []clusterv1.ContractVersionedObjectReference{m.Spec.Bootstrap.ConfigRef, m.Spec.InfrastructureRef} {
		if !ref.IsDefined() {
			continue
		}
		conflict, err := r.handOver(ctx, cluster, m, ref)
		requeue = requeue || conflict
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{Requeue: requeue}, nil //nolint:staticcheck // a conflict is tried again at once, with the queue's backoff
}

// handOver makes m the controller of the object ref names, unless it is
// already, or another controller holds it. conflict says the object
// changed since the cache was read.
func (r *ownershipPrimer) handOver(ctx context.Context, cluster *clusterv1.Cluster, m *clusterv1.Machine,
	ref clusterv1.ContractVersionedObjectReference) (conflict bool, err error) {
	obj, err := external.GetObjectFromContractVersionedRef(ctx, r.client, ref, m.Namespace)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil // not there yet: Cluster API waits for it too
		}
		return false, fmt.Errorf("failed to read %s %s of Machine %s: %w", ref.Kind, ref.Name, klog.KObj(m), err)
	}
	if !obj.GetDeletionTimestamp().IsZero() || !needsHandOver(cluster, m, obj) {
		return false, nil
	}
	base := obj.DeepCopy()
	obj.SetOwnerReferences(withoutOnCreateOwners(cluster, m, obj.GetOwnerReferences()))
	if err := controllerutil.SetControllerReference(m, obj, r.client.Scheme()); err != nil {
		// Another controller holds it: Cluster API's step fails on it
		// too and says so; nothing to prime.
		return false, nil
	}
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[clusterv1.ClusterNameLabel] = m.Spec.ClusterName
	obj.SetLabels(labels)
	err = r.client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	switch {
	case apierrors.IsConflict(err):
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("failed to hand %s %s to Machine %s: %w", ref.Kind, ref.Name, klog.KObj(m), err)
	}
	return false, nil
}

// needsHandOver is Cluster API's test: an on-create owner is still there,
// the Machine is not the controller yet, or the cluster-name label is
// missing.
func needsHandOver(cluster *clusterv1.Cluster, m *clusterv1.Machine, obj *unstructured.Unstructured) bool {
	owners := obj.GetOwnerReferences()
	if len(withoutOnCreateOwners(cluster, m, owners)) != len(owners) {
		return true
	}
	machineIsController := false
	for _, o := range owners {
		if o.UID == m.UID && o.Kind == "Machine" && o.Controller != nil && *o.Controller {
			machineIsController = true
		}
	}
	return !machineIsController || obj.GetLabels()[clusterv1.ClusterNameLabel] != m.Spec.ClusterName
}

// withoutOnCreateOwners drops the owner references of the MachineSet, or
// of the control plane of a control-plane Machine, that created the
// Machine's objects before the Machine existed.
func withoutOnCreateOwners(cluster *clusterv1.Cluster, m *clusterv1.Machine, owners []metav1.OwnerReference) []metav1.OwnerReference {
	var controlPlane *schema.GroupKind
	if _, ok := m.Labels[clusterv1.MachineControlPlaneLabel]; ok && cluster.Spec.ControlPlaneRef.IsDefined() {
		gk := cluster.Spec.ControlPlaneRef.GroupKind()
		controlPlane = &gk
	}
	kept := make([]metav1.OwnerReference, 0, len(owners))
	for _, o := range owners {
		gv, err := schema.ParseGroupVersion(o.APIVersion)
		if err == nil && ((gv.Group == clusterv1.GroupVersion.Group && o.Kind == "MachineSet") ||
			(controlPlane != nil && gv.Group == controlPlane.Group && o.Kind == controlPlane.Kind)) {
			continue
		}
		kept = append(kept, o)
	}
	return kept
}
