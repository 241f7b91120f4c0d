package tanzukubernetescluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	addonsv1 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/patch"

	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Finalizer keeps a TanzuKubernetesCluster until its Cluster API objects,
// and with them its VMs, are gone.
const Finalizer = "run.tanzu.vmware.com/tanzukubernetescluster"

// Reconciler turns TanzuKubernetesClusters (read as the v1alpha3 hub) into
// Cluster API objects and reports their progress in the cluster's status:
//
//   - resolve the releases of the control plane and each node pool;
//   - create or update the Cluster, VSphereCluster, KubeadmControlPlane,
//     one MachineDeployment per node pool and their templates, and the
//     ClusterResourceSet that applies the CNI in the guest cluster;
//   - delete node pools and templates no longer used;
//   - write conditions, phase, endpoints, VM, node and addon states.
//
// Every object it makes is controlled by the cluster (an owner reference),
// so the garbage collector deletes what is left once the cluster is gone.
// Deletion itself deletes the Cluster, so that Cluster API deletes the
// machines (and their VMs) in order, and holds the finalizer until the
// Cluster is gone.
type Reconciler struct {
	// Client is the manager's client (cached reads of Cluster API objects).
	Client client.Client
	// Recorder records an event for each step; nil records none.
	Recorder events.EventRecorder
	// Now returns the time conditions are stamped with (time.Now if nil).
	Now func() time.Time
	// Concurrency is how many clusters are reconciled at once (default 10).
	Concurrency int
}

// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesclusters/status;tanzukubernetesclusters/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters;machinedeployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=machines;machinesets,verbs=get;list;watch
// +kubebuilder:rbac:groups=controlplane.cluster.x-k8s.io,resources=kubeadmcontrolplanes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=controlplane.cluster.x-k8s.io,resources=kubeadmcontrolplanes/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bootstrap.cluster.x-k8s.io,resources=kubeadmconfigtemplates,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vsphereclusters,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vspheremachinetemplates,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=addons.cluster.x-k8s.io,resources=clusterresourcesets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=addons.cluster.x-k8s.io,resources=clusterresourcesetbindings,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesreleases,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller. The manager must run Cluster
// API in-process (providers/clusterapi.Setup) or next to it, with a scheme
// holding the run, vmware infrastructure and Cluster API types
// (api.NewScheme). Changes of the owned objects (their deletion too), of
// the Cluster's Machines, of its ClusterResourceSetBinding and of the
// releases it names requeue the cluster.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Concurrency == 0 {
		r.Concurrency = 10
	}
	// The Cluster is named after the TanzuKubernetesCluster, in its namespace.
	byClusterName := func(name func(client.Object) string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if n := name(o); n != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: n}}}
			}
			return nil
		})
	}
	err := ctrl.NewControllerManagedBy(mgr).
		For(&runv1alpha3.TanzuKubernetesCluster{}).
		Owns(&clusterv1.Cluster{}).
		Owns(&controlplanev1.KubeadmControlPlane{}).
		Owns(&clusterv1.MachineDeployment{}).
		Owns(&addonsv1.ClusterResourceSet{}).
		Watches(&clusterv1.Machine{}, byClusterName(func(o client.Object) string { return o.GetLabels()[clusterv1.ClusterNameLabel] })).
		Watches(&addonsv1.ClusterResourceSetBinding{}, byClusterName(func(o client.Object) string {
			return o.(*addonsv1.ClusterResourceSetBinding).Spec.ClusterName
		})).
		// A release added or fixed may make a failed cluster usable. Its
		// status changes (the release controller's) do not matter here.
		Watches(&runv1alpha2.TanzuKubernetesRelease{}, handler.EnqueueRequestsFromMapFunc(r.clustersOfRelease),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Concurrency}).
		Named("tanzukubernetescluster").
		Complete(r)
	if err != nil {
		return fmt.Errorf("failed to set up the TanzuKubernetesCluster controller: %w", err)
	}
	return nil
}

// Reconcile brings one TanzuKubernetesCluster's Cluster API objects and
// status up to date; the status is patched once, on the way out.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	tkc := &runv1alpha3.TanzuKubernetesCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, tkc); err != nil {
		if apierrors.IsNotFound(err) {
			clusterPhases.set(req.NamespacedName, "", true)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	helper, err := patch.NewHelper(tkc, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to prepare patching TanzuKubernetesCluster %s: %w", klog.KObj(tkc), err)
	}
	defer func() {
		if err := helper.Patch(ctx, tkc); err != nil && !apierrors.IsNotFound(err) {
			reterr = kerrors.NewAggregate([]error{reterr, fmt.Errorf("failed to patch TanzuKubernetesCluster %s: %w", klog.KObj(tkc), err)})
		}
		gone := !tkc.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(tkc, Finalizer)
		clusterPhases.set(req.NamespacedName, tkc.Status.Phase, gone)
	}()

	if !tkc.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, tkc)
	}
	// The finalizer is written before any child exists (the deferred patch).
	// Its update requeues the cluster.
	if controllerutil.AddFinalizer(tkc, Finalizer) {
		return ctrl.Result{}, nil
	}
	return r.reconcileNormal(ctx, tkc)
}

func (r *Reconciler) reconcileNormal(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	objs, err := r.desired(ctx, tkc)
	var unusable errReleaseUnusable
	if errors.As(err, &unusable) {
		if tkc.Status.Phase != runv1alpha3.PhaseFailed && tkc.Status.Phase != runv1alpha3.PhaseUpdateFailed {
			r.event(tkc, corev1.EventTypeWarning, runv1alpha3.ProvisioningFailedReason, "Reconcile", "%s", unusable.Error())
		}
		setFailed(tkc, unusable, r.now())
		// Retrying cannot help: a change of the cluster's spec or of a
		// release it names (both watched) brings it back.
		return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("cannot provision TanzuKubernetesCluster %s as specified: %w", klog.KObj(tkc), unusable))
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.applyObjects(ctx, tkc, objs); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.deleteUnused(ctx, tkc, objs); err != nil {
		return ctrl.Result{}, err
	}
	obs, err := r.observe(ctx, tkc, objs)
	if err != nil {
		return ctrl.Result{}, err
	}
	before := tkc.Status.Phase
	setStatus(tkc, objs, obs, r.now())
	if after := tkc.Status.Phase; after != before {
		log.Info("Cluster phase changed", "from", before, "to", after)
		r.event(tkc, corev1.EventTypeNormal, "Phase", "Reconcile", "Cluster is %s: %s", after, readyMessage(tkc))
	}
	return ctrl.Result{}, nil
}

// reconcileDelete deletes the Cluster, so that Cluster API drains and
// deletes the machines (and with them the VMs) in order, and keeps the
// finalizer until the Cluster is gone; meanwhile the status follows the
// machines. The Cluster's deletion, and each Machine's, requeue the
// cluster. What else the cluster made (templates, the CNI's
// ClusterResourceSet and ConfigMap) is controlled by it: the garbage
// collector deletes it once the cluster is gone.
func (r *Reconciler) reconcileDelete(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if tkc.Status.Phase != runv1alpha3.PhaseDeleting {
		r.event(tkc, corev1.EventTypeNormal, "Deleting", "Delete", "Deleting the cluster's machines and Cluster API objects")
	}
	machines, err := r.machines(ctx, tkc)
	if err != nil {
		return ctrl.Result{}, err
	}
	setDeleting(tkc, machines)
	cluster, err := r.ownCluster(ctx, tkc)
	if err != nil {
		return ctrl.Result{}, err
	}
	if cluster != nil {
		// Cluster API deletes a Cluster's machines, MachineDeployments and
		// control plane before the Cluster only once its finalizer is on.
		// A Cluster deleted before that goes at once and strands them: their
		// controllers need the Cluster to remove their own finalizers. The
		// finalizer's arrival requeues the cluster (it owns the Cluster).
		if cluster.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(cluster, clusterv1.ClusterFinalizer) {
			log.Info("Waiting for Cluster API to take charge of the Cluster before deleting it", "Cluster", klog.KObj(cluster))
			return ctrl.Result{}, nil
		}
		if err := r.deleteObject(ctx, tkc, cluster); err != nil {
			return ctrl.Result{}, err
		}
		log.Info("Waiting for Cluster API to delete the Cluster and its machines", "Cluster", klog.KObj(cluster), "machines", len(machines))
		return ctrl.Result{}, nil
	}
	controllerutil.RemoveFinalizer(tkc, Finalizer)
	return ctrl.Result{}, nil
}

// ownCluster returns the cluster's Cluster, nil if there is none or it is
// not the cluster's.
func (r *Reconciler) ownCluster(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) (*clusterv1.Cluster, error) {
	cluster := &clusterv1.Cluster{}
	err := r.Client.Get(ctx, client.ObjectKeyFromObject(tkc), cluster)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("failed to get Cluster %s: %w", klog.KObj(tkc), err)
	case !metav1.IsControlledBy(cluster, tkc):
		return nil, nil
	}
	return cluster, nil
}

// clustersOfRelease maps a TanzuKubernetesRelease to the clusters that
// name it, for the control plane or a node pool.
func (r *Reconciler) clustersOfRelease(ctx context.Context, o client.Object) []reconcile.Request {
	var clusters runv1alpha3.TanzuKubernetesClusterList
	if err := r.Client.List(ctx, &clusters); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the TanzuKubernetesClusters of a release", "TanzuKubernetesRelease", klog.KObj(o))
		return nil
	}
	var out []reconcile.Request
	for i := range clusters.Items {
		if namesRelease(&clusters.Items[i], o.GetName()) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&clusters.Items[i])})
		}
	}
	return out
}

// namesRelease says whether the cluster's control plane or a node pool
// names the release.
func namesRelease(tkc *runv1alpha3.TanzuKubernetesCluster, name string) bool {
	refs := []runv1alpha3.TKRReference{tkc.Spec.Topology.ControlPlane.TKR}
	for _, p := range tkc.Spec.Topology.NodePools {
		refs = append(refs, p.TKR)
	}
	for _, ref := range refs {
		if ref.Reference != nil && ref.Reference.Name == name {
			return true
		}
	}
	return false
}

// desired resolves the cluster's releases and builds its objects.
func (r *Reconciler) desired(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) (*clusterObjects, error) {
	osSelector, err := rules.ParseOSSelector(tkc.Annotations[rules.ResolveOSImageAnnotation])
	if err != nil {
		return nil, errReleaseUnusable{fmt.Sprintf("annotation %s: %v", rules.ResolveOSImageAnnotation, err)}
	}
	releases := map[string]release{}
	refs := []runv1alpha3.TKRReference{tkc.Spec.Topology.ControlPlane.TKR}
	for _, p := range tkc.Spec.Topology.NodePools {
		refs = append(refs, p.TKR)
	}
	for _, ref := range refs {
		if ref.Reference == nil || releases[ref.Reference.Name] != (release{}) {
			continue
		}
		rel, err := getRelease(ctx, r.Client, ref.Reference.Name, osSelector)
		if err != nil {
			return nil, err
		}
		releases[rel.Name] = rel
	}
	return desiredObjects(tkc, releases)
}

// observe reads the state of the cluster's Cluster API objects.
func (r *Reconciler) observe(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster, o *clusterObjects) (observed, error) {
	obs := observed{MachineDeployments: map[string]*clusterv1.MachineDeployment{}}
	get := func(obj client.Object) (bool, error) {
		err := r.Client.Get(ctx, client.ObjectKey{Namespace: tkc.Namespace, Name: obj.GetName()}, obj)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("failed to get %T %s: %w", obj, klog.KObj(obj), err)
		}
		return true, nil
	}
	cluster, kcp, binding := &clusterv1.Cluster{}, &controlplanev1.KubeadmControlPlane{}, &addonsv1.ClusterResourceSetBinding{}
	cluster.Name, kcp.Name, binding.Name = o.Cluster.Name, o.ControlPlane.Name, o.Cluster.Name
	for _, x := range []struct {
		obj client.Object
		set func()
	}{
		{cluster, func() { obs.Cluster = cluster }},
		{kcp, func() { obs.ControlPlane = kcp }},
		{binding, func() { obs.Binding = binding }},
	} {
		found, err := get(x.obj)
		if err != nil {
			return obs, err
		}
		if found {
			x.set()
		}
	}
	for _, want := range o.MachineDeployments {
		md := &clusterv1.MachineDeployment{ObjectMeta: metav1.ObjectMeta{Name: want.Name}}
		found, err := get(md)
		if err != nil {
			return obs, err
		}
		if found {
			obs.MachineDeployments[md.Name] = md
		}
	}
	machines, err := r.machines(ctx, tkc)
	if err != nil {
		return obs, err
	}
	obs.Machines = machines
	return obs, nil
}

// machines lists the Machines of the cluster, control plane and workers.
func (r *Reconciler) machines(ctx context.Context, tkc *runv1alpha3.TanzuKubernetesCluster) ([]clusterv1.Machine, error) {
	var machines clusterv1.MachineList
	if err := r.Client.List(ctx, &machines, client.InNamespace(tkc.Namespace), client.MatchingLabels{clusterv1.ClusterNameLabel: tkc.Name}); err != nil {
		return nil, fmt.Errorf("failed to list the Machines of Cluster %s: %w", klog.KObj(tkc), err)
	}
	return machines.Items, nil
}

func (r *Reconciler) now() metav1.Time {
	if r.Now != nil {
		return metav1.NewTime(r.Now().Truncate(time.Second))
	}
	return metav1.NewTime(time.Now().Truncate(time.Second))
}

func (r *Reconciler) event(obj runtime.Object, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, note, args...)
	}
}

// readyMessage is what the Ready condition says, for events.
func readyMessage(tkc *runv1alpha3.TanzuKubernetesCluster) string {
	for _, c := range tkc.Status.Conditions {
		if c.Type == runv1alpha3.ReadyCondition {
			if c.Status == corev1.ConditionTrue {
				return "all nodes and addons are ready"
			}
			return c.Message
		}
	}
	return ""
}
