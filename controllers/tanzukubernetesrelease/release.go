package tanzukubernetesrelease

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/templates"
)

// Reconciler keeps one TanzuKubernetesRelease per shipped release.
type Reconciler struct {
	Client client.Client
}

// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesreleases;tanzukubernetesreleases/status,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=clustervirtualmachineimages,verbs=get;list;watch

// SetupWithManager registers the controller; every image change revisits
// every release (there are a handful).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		out := make([]reconcile.Request, 0, len(templates.Releases))
		for _, rel := range templates.Releases {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: rel.ObjectName()}})
		}
		return out
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&runv1.TanzuKubernetesRelease{}).
		Watches(&vmopv1.ClusterVirtualMachineImage{}, all).
		Complete(r)
}

// Reconcile writes the release's spec and status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	i := release(req.Name)
	if i < 0 {
		return ctrl.Result{}, nil // not one of ours: left alone
	}
	rel := templates.Releases[i]
	tkr := &runv1.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: rel.ObjectName()}}
	if _, err := controllerutil.CreateOrPatch(ctx, r.Client, tkr, func() error {
		tkr.Spec = Spec(rel)
		return nil
	}); err != nil {
		return ctrl.Result{}, fmt.Errorf("writing TanzuKubernetesRelease %s: %w", rel.ObjectName(), err)
	}

	image := &vmopv1.ClusterVirtualMachineImage{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: rel.ImageName()}, image)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	before := tkr.DeepCopy()
	ready := runv1.Condition{Type: runv1.ReleaseReadyCondition, Status: corev1.ConditionTrue}
	if err != nil {
		ready = runv1.Condition{Type: runv1.ReleaseReadyCondition, Status: corev1.ConditionFalse, Severity: runv1.ConditionSeverityWarning,
			Reason: runv1.NodeImageNotFoundReason, Message: fmt.Sprintf("node image %s is not in the content library", rel.ImageName())}
	}
	updates := runv1.Condition{Type: runv1.ReleaseUpdatesAvailableCondition, Status: corev1.ConditionFalse}
	if newer := newerThan(i); len(newer) > 0 {
		updates = runv1.Condition{Type: runv1.ReleaseUpdatesAvailableCondition, Status: corev1.ConditionTrue, Message: "[" + strings.Join(newer, " ") + "]"}
	}
	now := metav1.Now()
	for _, c := range []runv1.Condition{ready, {Type: runv1.ReleaseCompatibleCondition, Status: corev1.ConditionTrue}, updates} {
		tkr.Status.Conditions.Set(c, now)
	}
	if equality.Semantic.DeepEqual(before.Status, tkr.Status) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Client.Status().Patch(ctx, tkr, client.MergeFrom(before))
}

// Spec is a shipped release's TanzuKubernetesRelease spec.
func Spec(rel templates.Release) runv1.TanzuKubernetesReleaseSpec {
	return runv1.TanzuKubernetesReleaseSpec{
		Version:           rel.Version,
		KubernetesVersion: rel.KubernetesVersion,
		NodeImageRef:      &corev1.ObjectReference{APIVersion: vmopv1.GroupVersion.String(), Kind: "ClusterVirtualMachineImage", Name: rel.ImageName()},
	}
}

func release(name string) int {
	for i, rel := range templates.Releases {
		if rel.ObjectName() == name {
			return i
		}
	}
	return -1
}

// newerThan lists the shipped releases after i (Releases is oldest first).
func newerThan(i int) []string {
	var out []string
	for _, rel := range templates.Releases[i+1:] {
		out = append(out, rel.Version)
	}
	return out
}
