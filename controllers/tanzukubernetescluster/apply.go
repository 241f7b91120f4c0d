package tanzukubernetescluster

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	addonsv1 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// applyObjects creates what is missing and brings the mutable fields of
// what exists to the desired state. Templates are only ever created.
func (r *Reconciler) applyObjects(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, o *clusterObjects) error {
	for _, t := range o.MachineTemplates {
		if err := r.createOnce(ctx, tkc, t); err != nil {
			return err
		}
	}
	for _, t := range o.ConfigTemplates {
		if err := r.createOnce(ctx, tkc, t); err != nil {
			return err
		}
	}
	if _, err := ensure(ctx, r, tkc, o.VSphereCluster, nil); err != nil {
		return err
	}
	if err := r.ensureControlPlane(ctx, tkc, o.ControlPlane); err != nil {
		return err
	}
	for _, md := range o.MachineDeployments {
		if _, err := ensure(ctx, r, tkc, md, updateMachineDeployment); err != nil {
			return err
		}
	}
	// The Cluster last: Cluster API starts on it once its references exist.
	if err := r.ensureCluster(ctx, tkc, o.Cluster); err != nil {
		return err
	}
	if _, err := ensure(ctx, r, tkc, o.CNIConfigMap, func(cur, want *corev1.ConfigMap) { cur.Data = want.Data }); err != nil {
		return err
	}
	_, err := ensure(ctx, r, tkc, o.CNI, func(cur, want *addonsv1.ClusterResourceSet) {
		cur.Spec.Resources, cur.Spec.Strategy = want.Spec.Resources, want.Spec.Strategy
	})
	return err
}

// ensureCluster ensures the Cluster and, when it creates it, does the
// bookkeeping Cluster API's controllers start with: a Cluster is created
// with Cluster API's finalizer on, and the Cluster and its control plane
// get their Paused condition as Cluster API computes it. Each controller
// otherwise spends a whole reconcile on each of these, and Cluster API lets
// one object be reconciled at most once a second: the first control-plane
// machine waited about 4 s for them. The finalizer is the one Cluster API
// would add (its controller removes it on delete, as always); the
// condition is the one it would set.
func (r *Reconciler) ensureCluster(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, want *clusterv1.Cluster) error {
	create := want.DeepCopy()
	controllerutil.AddFinalizer(create, clusterv1.ClusterFinalizer)
	created, err := ensure(ctx, r, tkc, create, nil)
	if err != nil || !created {
		return err
	}
	return r.markNotPaused(ctx, create)
}

// markNotPaused gives an object just created, unpaused, the Paused
// condition Cluster API's controllers set first (paused.EnsurePausedCondition
// computes the same). It patches the object the create returned, guarded by
// its resourceVersion: the cache may not hold it yet, and a controller that
// wrote first has set the condition itself.
func (r *Reconciler) markNotPaused(ctx context.Context, obj interface {
	client.Object
	conditions.Setter
}) error {
	base := obj.DeepCopyObject().(client.Object)
	conditions.Set(obj, metav1.Condition{Type: clusterv1.PausedCondition, Status: metav1.ConditionFalse,
		Reason: clusterv1.NotPausedReason, ObservedGeneration: obj.GetGeneration()})
	err := r.Client.Status().Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	if err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("failed to set the Paused condition of %T %s: %w", obj, klog.KObj(obj), err)
	}
	return nil
}

// ensureControlPlane ensures the KubeadmControlPlane, asking for a single
// machine until the first control plane is initialized and healthy.
// KubeadmControlPlane joins the others only then anyway, but each time it
// looks earlier its preflight check fails and holds the next look back
// 5 s, so a cluster asking for 3 from the start waited up to two such
// rounds after its first control plane was up. Once it asks for more than
// one it is never lowered again: a control plane that turns unhealthy
// later keeps its count.
func (r *Reconciler) ensureControlPlane(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, want *controlplanev1.KubeadmControlPlane) error {
	count := ptr.Deref(want.Spec.Replicas, 1)
	create := want.DeepCopy()
	create.Spec.Replicas = ptr.To(controlPlaneReplicas(nil, count))
	created, err := ensure(ctx, r, tkc, create, func(cur, w *controlplanev1.KubeadmControlPlane) {
		replicas := controlPlaneReplicas(cur, count) // before cur changes
		updateControlPlane(cur, w)
		cur.Spec.Replicas = ptr.To(replicas)
	})
	if err != nil || !created {
		return err
	}
	// As for the Cluster (ensureCluster), but not the finalizer: the
	// KubeadmControlPlane controller adds it only once the Cluster owns the
	// control plane, and a control plane it cannot reach through its
	// Cluster could not let go of it. (The Cluster is created unpaused.)
	return r.markNotPaused(ctx, create)
}

// controlPlaneReplicas is the count to ask of the KubeadmControlPlane cur
// (nil: not created yet) for a control plane of want machines.
func controlPlaneReplicas(cur *controlplanev1.KubeadmControlPlane, want int32) int32 {
	if want <= 1 || (cur != nil && (ptr.Deref(cur.Spec.Replicas, 0) > 1 || firstControlPlaneUp(cur))) {
		return want
	}
	return 1
}

// firstControlPlaneUp says whether kcp's control plane is initialized and
// its components and etcd healthy: what its preflight check asks before
// another control plane joins.
func firstControlPlaneUp(kcp *controlplanev1.KubeadmControlPlane) bool {
	return ptr.Deref(kcp.Status.Initialization.ControlPlaneInitialized, false) &&
		conditions.IsTrue(kcp, controlplanev1.KubeadmControlPlaneControlPlaneComponentsHealthyCondition) &&
		conditions.IsTrue(kcp, controlplanev1.KubeadmControlPlaneEtcdClusterHealthyCondition)
}

// updateControlPlane sets what a user may change: scale, release (version
// and machine template) and drain timeout.
func updateControlPlane(cur, want *controlplanev1.KubeadmControlPlane) {
	cur.Spec.Replicas = want.Spec.Replicas
	cur.Spec.Version = want.Spec.Version
	cur.Spec.MachineTemplate.Spec.InfrastructureRef = want.Spec.MachineTemplate.Spec.InfrastructureRef
	cur.Spec.MachineTemplate.Spec.Deletion.NodeDrainTimeoutSeconds = want.Spec.MachineTemplate.Spec.Deletion.NodeDrainTimeoutSeconds
	mergeInto(&cur.Spec.MachineTemplate.ObjectMeta.Annotations, want.Spec.MachineTemplate.ObjectMeta.Annotations)
}

// mergeInto sets every key of from in *to.
func mergeInto(to *map[string]string, from map[string]string) {
	for k, v := range from {
		if *to == nil {
			*to = map[string]string{}
		}
		(*to)[k] = v
	}
}

// updateMachineDeployment sets a pool's scale (unless left to an
// autoscaler), release, templates and placement.
func updateMachineDeployment(cur, want *clusterv1.MachineDeployment) {
	if want.Spec.Replicas != nil {
		cur.Spec.Replicas = want.Spec.Replicas
	}
	mergeInto(&cur.Spec.Template.Labels, want.Spec.Template.Labels)
	mergeInto(&cur.Spec.Template.Annotations, want.Spec.Template.Annotations)
	s, w := &cur.Spec.Template.Spec, want.Spec.Template.Spec
	s.Version, s.Bootstrap.ConfigRef, s.InfrastructureRef = w.Version, w.Bootstrap.ConfigRef, w.InfrastructureRef
	s.FailureDomain, s.Deletion.NodeDrainTimeoutSeconds = w.FailureDomain, w.Deletion.NodeDrainTimeoutSeconds
}

// ensure creates want, owned by tkc, or patches an existing object: its
// labels and annotations are merged, tkc is made its controller, and update
// (if any) copies the mutable fields. Cluster API's webhooks default the
// rest, which is why the existing object is patched, never replaced.
// created says whether want was created (and now holds what the API server
// returned).
func ensure[T client.Object](ctx context.Context, r *Reconciler, tkc *runv1alpha3.TanzuKubernetesCluster, want T, update func(cur, want T)) (created bool, err error) {
	kind := reflect.TypeOf(want).Elem().Name()
	if err := controllerutil.SetControllerReference(tkc, want, r.Client.Scheme()); err != nil {
		return false, fmt.Errorf("failed to own %s %s: %w", kind, klog.KObj(want), err)
	}
	cur := reflect.New(reflect.TypeOf(want).Elem()).Interface().(T)
	err = r.Client.Get(ctx, client.ObjectKeyFromObject(want), cur)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.Client.Create(ctx, want); err != nil {
			return false, fmt.Errorf("failed to create %s %s: %w", kind, klog.KObj(want), err)
		}
		r.event(tkc, corev1.EventTypeNormal, "Created", "Create", "Created %s %s", kind, want.GetName())
		return true, nil
	case err != nil:
		return false, fmt.Errorf("failed to get %s %s: %w", kind, klog.KObj(want), err)
	}
	if !cur.GetDeletionTimestamp().IsZero() {
		return false, fmt.Errorf("%s %s is being deleted; waiting to create it again", kind, klog.KObj(want))
	}
	before := cur.DeepCopyObject().(T)
	cur.SetLabels(merged(cur.GetLabels(), want.GetLabels()))
	cur.SetAnnotations(merged(cur.GetAnnotations(), want.GetAnnotations()))
	if err := controllerutil.SetControllerReference(tkc, cur, r.Client.Scheme()); err != nil {
		return false, fmt.Errorf("failed to own %s %s: %w", kind, klog.KObj(want), err)
	}
	if update != nil {
		update(cur, want)
	}
	if equality.Semantic.DeepEqual(before, cur) {
		return false, nil
	}
	if err := r.Client.Patch(ctx, cur, client.MergeFrom(before)); err != nil {
		return false, fmt.Errorf("failed to patch %s %s: %w", kind, klog.KObj(want), err)
	}
	r.event(tkc, corev1.EventTypeNormal, "Updated", "Update", "Updated %s %s", kind, want.GetName())
	return false, nil
}

// createOnce creates an immutable object, owned by tkc, unless it exists.
func (r *Reconciler) createOnce(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, obj client.Object) error {
	kind := reflect.TypeOf(obj).Elem().Name()
	cur := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(obj), cur)
	if err == nil || !apierrors.IsNotFound(err) {
		return client.IgnoreNotFound(err)
	}
	if err := controllerutil.SetControllerReference(tkc, obj, r.Client.Scheme()); err != nil {
		return fmt.Errorf("failed to own %s %s: %w", kind, klog.KObj(obj), err)
	}
	if err := r.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create %s %s: %w", kind, klog.KObj(obj), err)
	}
	r.event(tkc, corev1.EventTypeNormal, "Created", "Create", "Created %s %s", kind, obj.GetName())
	return nil
}

func merged(cur, want map[string]string) map[string]string {
	if len(want) == 0 {
		return cur
	}
	out := make(map[string]string, len(cur)+len(want))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range want {
		out[k] = v
	}
	return out
}
