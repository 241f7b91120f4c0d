package namespace

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// VSphereNamespaceLabel marks a Namespace as a vSphere Namespace.
const VSphereNamespaceLabel = vspherev1.VSphereNamespaceLabel

// Reconciler installs the default VM classes into namespaces labelled as
// vSphere Namespaces by hand (no VSphereNamespace controls them).
type Reconciler struct {
	Client client.Client
	// Reader lists classes uncached: a manager may cache only some namespaces.
	Reader client.Reader
}

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses,verbs=get;list;watch;create

// SetupWithManager registers the controller; a deleted class comes back
// only when its namespace is next reconciled (a change or a restart).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	isVSphereNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[VSphereNamespaceLabel] == "true" && !OwnedByVSphereNamespace(o)
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Namespace{}, builder.WithPredicates(isVSphereNamespace)).
		Named("defaultvmclasses").
		Complete(r)
}

// Reconcile creates each default class the namespace lacks.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, req.NamespacedName, ns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// A VSphereNamespace binds exactly the classes its spec names; the
	// defaults are only for namespaces labelled by hand.
	if !ns.DeletionTimestamp.IsZero() || OwnedByVSphereNamespace(ns) {
		return ctrl.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx).WithValues("Namespace", klog.KObj(ns))
	var existing vmopv1.VirtualMachineClassList
	if err := r.Reader.List(ctx, &existing, client.InNamespace(ns.Name)); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to list VirtualMachineClasses in %s: %w", ns.Name, err)
	}
	have := map[string]bool{}
	for _, c := range existing.Items {
		have[c.Name] = true
	}
	created := 0
	for _, class := range DefaultClasses(ns.Name) {
		if have[class.Name] {
			continue
		}
		err := r.Client.Create(ctx, class)
		switch {
		case err == nil:
			created++
		case apierrors.IsAlreadyExists(err):
		default:
			return ctrl.Result{}, fmt.Errorf("failed to create VirtualMachineClass %s in %s: %w", class.Name, ns.Name, err)
		}
	}
	if created > 0 {
		log.Info("Installed default VM classes", "count", created)
	}
	return ctrl.Result{}, nil
}

// OwnedByVSphereNamespace says whether a VSphereNamespace controls o (the
// Namespaces controllers/vspherenamespace creates).
func OwnedByVSphereNamespace(o client.Object) bool {
	ref := metav1.GetControllerOf(o)
	return ref != nil && ref.Kind == "VSphereNamespace" && strings.HasPrefix(ref.APIVersion, vspherev1.GroupVersion.Group+"/")
}
