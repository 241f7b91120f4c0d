package infrastructure

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util"
	"sigs.k8s.io/cluster-api/util/annotations"
	"sigs.k8s.io/cluster-api/util/patch"
	"sigs.k8s.io/cluster-api/util/predicates"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// legacyClusterFinalizer was put on VSphereClusters by earlier versions,
// which deleted the VirtualMachineService by hand. A VSphereCluster needs no
// finalizer: it holds no external state, and the garbage collector deletes
// its VirtualMachineService (whose VIP lbapi then frees). A deleted
// VSphereCluster that still carries it is let go.
const legacyClusterFinalizer = "vmware.infrastructure.cluster.x-k8s.io/vspherecluster"

// APIServerPort is the control plane's port, on the VIP and on the VMs.
const APIServerPort = 6443

// ClusterReconciler gives a VSphereCluster its control-plane endpoint.
type ClusterReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vsphereclusters;vsphereclusters/status,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vsphereclusters/finalizers,verbs=update
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters;clusters/status,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineservices,verbs=get;list;watch;create;update;patch

// SetupWithManager registers the controller.
func (r *ClusterReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&vmwarev1.VSphereCluster{}).
		Owns(&vmopv1.VirtualMachineService{}).
		Watches(&clusterv1.Cluster{}, handler.EnqueueRequestsFromMapFunc(
			util.ClusterToInfrastructureMapFunc(ctx, vmwarev1.GroupVersion.WithKind("VSphereCluster"), mgr.GetClient(), &vmwarev1.VSphereCluster{}))).
		WithEventFilter(predicates.ResourceNotPaused(mgr.GetScheme(), ctrl.LoggerFrom(ctx))).
		Complete(r)
}

// Reconcile makes the VIP and records it as the control-plane endpoint.
func (r *ClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	vc := &vmwarev1.VSphereCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, vc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !vc.DeletionTimestamp.IsZero() {
		if annotations.HasPaused(vc) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, r.reconcileDelete(ctx, vc)
	}
	cluster, err := r.clusterOf(ctx, vc)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to find the Cluster of VSphereCluster %s: %w", klog.KObj(vc), err)
	}
	switch {
	case cluster == nil:
		return ctrl.Result{}, nil // the Cluster's creation, or Cluster API setting the owner reference, brings us back
	case annotations.IsPaused(cluster, vc):
		return ctrl.Result{}, nil
	}
	helper, err := patch.NewHelper(vc, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to prepare patching VSphereCluster %s: %w", klog.KObj(vc), err)
	}
	defer func() {
		if err := helper.Patch(ctx, vc); err != nil && !apierrors.IsNotFound(err) {
			reterr = errors.Join(reterr, fmt.Errorf("failed to patch VSphereCluster %s: %w", klog.KObj(vc), err))
		}
	}()
	return r.reconcileNormal(ctx, cluster, vc)
}

// clusterOf returns the Cluster of vc: its owner, or before Cluster API has
// set the owner reference (a second Cluster reconcile, a second or more
// after creation) the Cluster its cluster-name label names, if that Cluster
// has vc as its infrastructure. So the VIP is asked for as soon as both
// exist, not after Cluster API's first rounds. nil if there is none (yet,
// or any more).
func (r *ClusterReconciler) clusterOf(ctx context.Context, vc *vmwarev1.VSphereCluster) (*clusterv1.Cluster, error) {
	cluster, err := util.GetOwnerCluster(ctx, r.Client, vc.ObjectMeta)
	switch {
	case err != nil && !apierrors.IsNotFound(err):
		return nil, err
	case cluster != nil:
		return cluster, nil
	}
	if vc.Labels[clusterv1.ClusterNameLabel] == "" {
		return nil, nil
	}
	cluster, err = util.GetClusterFromMetadata(ctx, r.Client, vc.ObjectMeta)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ref := cluster.Spec.InfrastructureRef
	if ref.Kind != "VSphereCluster" || ref.APIGroup != vmwarev1.GroupVersion.Group || ref.Name != vc.Name {
		return nil, nil
	}
	return cluster, nil
}

// reconcileNormal creates the control-plane VirtualMachineService,
// controlled by vc so that the garbage collector deletes it with vc, and
// records its VIP as the endpoint once lbapi gave one.
func (r *ClusterReconciler) reconcileNormal(ctx context.Context, cluster *clusterv1.Cluster, vc *vmwarev1.VSphereCluster) (ctrl.Result, error) {
	svc := &vmopv1.VirtualMachineService{ObjectMeta: metav1.ObjectMeta{Namespace: vc.Namespace, Name: cluster.Name}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, svc, func() error {
		svc.Spec.Type = vmopv1.VirtualMachineServiceTypeLoadBalancer
		svc.Spec.Selector = map[string]string{vmwarev1.ClusterNameLabel: cluster.Name, vmwarev1.ClusterRoleLabel: vmwarev1.RoleControlPlane}
		svc.Spec.Ports = []vmopv1.VirtualMachineServicePort{{Name: "apiserver", Protocol: "TCP", Port: APIServerPort, TargetPort: APIServerPort}}
		if svc.Labels == nil {
			svc.Labels = map[string]string{}
		}
		svc.Labels[clusterv1.ClusterNameLabel] = cluster.Name
		return controllerutil.SetControllerReference(vc, svc, r.Client.Scheme())
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to create or patch the control-plane VirtualMachineService %s: %w", klog.KObj(svc), err)
	}
	if len(svc.Status.LoadBalancer.Ingress) == 0 || svc.Status.LoadBalancer.Ingress[0].IP == "" {
		why := "the load balancer has not given the control plane a VIP yet"
		if c := meta.FindStatusCondition(svc.Status.Conditions, lbv1.ConditionLoadBalancerReady); c != nil && c.Status == metav1.ConditionFalse {
			why = "no VIP for the control plane: " + c.Message
		}
		setClusterConditions(vc, metav1.ConditionFalse, vmwarev1.VSphereClusterLoadBalancerWaitingForIPReason, why)
		return ctrl.Result{}, nil // the VirtualMachineService's status change brings us back
	}
	vip := svc.Status.LoadBalancer.Ingress[0].IP
	if vc.Spec.ControlPlaneEndpoint.Host != vip && r.Recorder != nil {
		r.Recorder.Eventf(vc, nil, corev1.EventTypeNormal, "ControlPlaneEndpointReady", "SetEndpoint", "control plane endpoint %s:%d", vip, APIServerPort)
	}
	vc.Spec.ControlPlaneEndpoint = vmwarev1.APIEndpoint{Host: vip, Port: APIServerPort}
	vc.Status.Initialization.Provisioned = ptr.To(true)
	setClusterConditions(vc, metav1.ConditionTrue, vmwarev1.VSphereClusterLoadBalancerReadyReason, fmt.Sprintf("%s:%d", vip, APIServerPort))
	return ctrl.Result{}, nil
}

// setClusterConditions sets what CAPV sets on a VSphereCluster in
// supervisor mode: LoadBalancerReady and Ready (the endpoint is all this
// provider makes, so Ready follows it), and their legacy (v1beta1)
// counterparts, which v1beta1 readers see as status.conditions.
func setClusterConditions(vc *vmwarev1.VSphereCluster, status metav1.ConditionStatus, reason, msg string) {
	readyReason := vmwarev1.VSphereClusterReadyReason
	if status != metav1.ConditionTrue {
		readyReason = vmwarev1.VSphereClusterNotReadyReason
	}
	meta.SetStatusCondition(&vc.Status.Conditions, metav1.Condition{Type: vmwarev1.VSphereClusterLoadBalancerReadyCondition, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: vc.Generation})
	meta.SetStatusCondition(&vc.Status.Conditions, metav1.Condition{Type: vmwarev1.VSphereClusterReadyCondition, Status: status,
		Reason: readyReason, Message: msg, ObservedGeneration: vc.Generation})
	legacyReason := ""
	if status != metav1.ConditionTrue {
		legacyReason = vmwarev1.WaitingForLoadBalancerIPV1Beta1Reason
	}
	vc.SetV1Beta1Conditions(setLegacyConditions(vc.GetV1Beta1Conditions(), vmwarev1.LoadBalancerReadyV1Beta1Condition, status, legacyReason, msg))
}

// reconcileDelete lets go of a deleted VSphereCluster that still carries
// the finalizer of earlier versions; the garbage collector deletes its
// VirtualMachineService once it is gone.
func (r *ClusterReconciler) reconcileDelete(ctx context.Context, vc *vmwarev1.VSphereCluster) error {
	if !controllerutil.ContainsFinalizer(vc, legacyClusterFinalizer) {
		return nil
	}
	before := vc.DeepCopy()
	controllerutil.RemoveFinalizer(vc, legacyClusterFinalizer)
	if err := r.Client.Patch(ctx, vc, client.MergeFrom(before)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to remove the finalizer of VSphereCluster %s: %w", klog.KObj(vc), err)
	}
	return nil
}
