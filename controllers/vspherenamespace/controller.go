package vspherenamespace

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/cluster-api/util/patch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// Finalizer keeps a VSphereNamespace until its Kubernetes Namespace, and
// everything in it, is gone.
const Finalizer = "vsphere.opensupervisor.io/vspherenamespace"

// policyRetry is how soon a namespace naming a storage policy vCenter does
// not have looks again: vCenter's policies are not watched.
const policyRetry = 30 * time.Second

// Reconciler configures vSphere Namespaces:
//
//   - the Namespace of the VSphereNamespace's name, labelled as a vSphere
//     Namespace and controlled by it (the garbage collector's cue);
//   - exactly the VM classes vm_service_spec names, copied from the catalog
//     and kept equal to it; any other class in the namespace is removed;
//   - a StorageClass per storage policy, and a ResourceQuota granting them
//     with their limits;
//   - a ResourceQuota of the CPU, memory and storage limits;
//   - a RoleBinding per subject of the access list.
//
// Every object in the namespace it makes is controlled by the
// VSphereNamespace. The manager's cache must cover every namespace.
type Reconciler struct {
	// Client is the manager's client.
	Client client.Client
	// Policies finds storage policies; without it every storage_specs
	// entry is reported as unusable.
	Policies StoragePolicies
	// DatastoreURL goes into the StorageClasses made for storage policies:
	// the datastore the VM service places their disks on.
	DatastoreURL string
	// CPUMHzPerCore converts resource_spec's CPU limit in MHz into
	// Kubernetes CPUs (DefaultCPUMHzPerCore when zero).
	CPUMHzPerCore int64
	// Concurrency is how many namespaces are configured at once (10).
	Concurrency int
}

// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=vspherenamespaces,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=vspherenamespaces/status;vspherenamespaces/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=supervisors,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=resourcequotas,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=edit;view

// SetupWithManager registers the controller. Changes of the objects it
// controls, of the Namespace of its name, of the catalog's classes and of
// any class in a vSphere Namespace requeue the namespaces concerned.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	err := ctrl.NewControllerManagedBy(mgr).
		For(&vspherev1.VSphereNamespace{}).
		// By name rather than by owner: a namespace of the name that is
		// not (yet) ours, once deleted, frees the name.
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetName()}}}
		})).
		Owns(&corev1.ResourceQuota{}).
		Owns(&rbacv1.RoleBinding{}).
		Watches(&vmopv1.VirtualMachineClass{}, handler.EnqueueRequestsFromMapFunc(r.namespacesOfClass)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Named("vspherenamespace").
		Complete(r)
	if err != nil {
		return fmt.Errorf("failed to set up the VSphereNamespace controller: %w", err)
	}
	return nil
}

// namespacesOfClass maps a catalog class to the namespaces naming it, and
// a class elsewhere to the vSphere Namespace it is in (if any).
func (r *Reconciler) namespacesOfClass(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != vspherev1.VMClassCatalogNamespace {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetNamespace()}}}
	}
	var list vspherev1.VSphereNamespaceList
	if err := r.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list VSphereNamespaces for a catalog class", "VirtualMachineClass", klog.KObj(o))
		return nil
	}
	var out []reconcile.Request
	for _, ns := range list.Items {
		if slices.Contains(ns.Spec.VMServiceSpec.VMClasses, o.GetName()) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: ns.Name}})
		}
	}
	return out
}

// Reconcile configures one vSphere Namespace, or removes it; the status is
// patched once, on the way out.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	vns := &vspherev1.VSphereNamespace{}
	if err := r.Client.Get(ctx, req.NamespacedName, vns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("VSphereNamespace", klog.KObj(vns))
	ctx = ctrl.LoggerInto(ctx, log)
	helper, err := patch.NewHelper(vns, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to prepare patching VSphereNamespace %s: %w", vns.Name, err)
	}
	// observed: the current generation was configured as far as it can be
	// (problems of the spec included), so observedGeneration may say so.
	observed := false
	defer func() {
		opts := []patch.Option{patch.WithOwnedConditions{Conditions: []string{vspherev1.NamespaceConfiguredCondition}}}
		if reterr == nil && observed {
			opts = append(opts, patch.WithStatusObservedGeneration{})
		}
		if err := helper.Patch(ctx, vns, opts...); err != nil && !apierrors.IsNotFound(err) {
			reterr = kerrors.NewAggregate([]error{reterr, fmt.Errorf("failed to patch VSphereNamespace %s: %w", vns.Name, err)})
		}
	}()

	if !vns.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, vns)
	}
	// The finalizer is written before any object exists (the deferred
	// patch); its update requeues the namespace.
	if controllerutil.AddFinalizer(vns, Finalizer) {
		setWaiting(vns, "Configuring the namespace")
		return ctrl.Result{}, nil
	}
	res, done, err := r.reconcileNormal(ctx, vns)
	observed = done
	return res, err
}

// reconcileNormal puts every part of the namespace in place. A part the
// spec gets wrong is reported and the others are still configured; done
// says the spec was handled as far as it can be.
func (r *Reconciler) reconcileNormal(ctx context.Context, vns *vspherev1.VSphereNamespace) (_ ctrl.Result, done bool, _ error) {
	ready, nsProblem, err := r.reconcileNamespace(ctx, vns)
	if err != nil {
		return ctrl.Result{}, false, err
	}
	if nsProblem != nil {
		setStatus(vns, []problem{*nsProblem}, "")
		return ctrl.Result{}, true, nil
	}
	if !ready {
		// Requeued by the Namespace's events.
		return ctrl.Result{}, false, nil
	}

	var problems []problem
	classes, ps, err := r.reconcileClasses(ctx, vns)
	if err != nil {
		return ctrl.Result{}, false, err
	}
	problems = append(problems, ps...)
	storage, ps, err := r.reconcileStorage(ctx, vns)
	if err != nil {
		return ctrl.Result{}, false, err
	}
	problems = append(problems, ps...)
	if err := r.applyQuota(ctx, vns, ResourceQuotaName, resourceHard(vns.Spec.ResourceSpec, r.CPUMHzPerCore)); err != nil {
		return ctrl.Result{}, false, err
	}
	ps, err = r.reconcileNetworks(ctx, vns)
	if err != nil {
		return ctrl.Result{}, false, err
	}
	problems = append(problems, ps...)
	bindings, ps, err := r.reconcileAccess(ctx, vns)
	if err != nil {
		return ctrl.Result{}, false, err
	}
	problems = append(problems, ps...)

	before := vns.Status.ConfigStatus
	setStatus(vns, problems, fmt.Sprintf("Namespace %s has %d VM classes, %d storage classes and %d role bindings", vns.Name, classes, storage, bindings))
	if after := vns.Status.ConfigStatus; after != before {
		ctrl.LoggerFrom(ctx).Info("Namespace configuration changed", "from", before, "to", after, "problems", len(problems))
	}
	var res ctrl.Result
	if slices.ContainsFunc(problems, func(p problem) bool { return p.reason == ReasonStoragePolicyNotFound }) {
		res.RequeueAfter = policyRetry
	}
	return res, true, nil
}

// reconcileDelete deletes the Kubernetes Namespace and keeps the finalizer
// until it is gone: the namespace controller deletes what is in it, and
// TanzuKubernetesClusters and VirtualMachines hold it with their own
// finalizers until their VMs are gone. The Namespace's events requeue.
func (r *Reconciler) reconcileDelete(ctx context.Context, vns *vspherev1.VSphereNamespace) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	ns := &corev1.Namespace{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: vns.Name}, ns)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("failed to get Namespace %s: %w", vns.Name, err)
	}
	if err == nil && controlledBy(ns, vns) {
		if ns.DeletionTimestamp.IsZero() {
			log.Info("Deleting namespace", "Namespace", klog.KObj(ns))
			if err := r.Client.Delete(ctx, ns); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("failed to delete Namespace %s: %w", ns.Name, err)
			}
		}
		msg := "Waiting for namespace " + ns.Name + " to be deleted"
		if remaining := contentRemaining(ns); remaining != "" {
			msg += ": " + remaining
		}
		setRemoving(vns, msg)
		log.V(4).Info(msg)
		return ctrl.Result{}, nil
	}
	setRemoving(vns, "Namespace "+vns.Name+" is deleted")
	controllerutil.RemoveFinalizer(vns, Finalizer)
	return ctrl.Result{}, nil
}

// contentRemaining is what the namespace controller says still holds the
// namespace (which kinds, which finalizers).
func contentRemaining(ns *corev1.Namespace) string {
	for _, t := range []corev1.NamespaceConditionType{corev1.NamespaceContentRemaining, corev1.NamespaceFinalizersRemaining} {
		for _, c := range ns.Status.Conditions {
			if c.Type == t && c.Status == corev1.ConditionTrue {
				return c.Message
			}
		}
	}
	return ""
}
