package namespace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// VSphereNamespaceLabel marks a Namespace as a vSphere Namespace.
const VSphereNamespaceLabel = "vsphere.opensupervisor.io/vsphere-namespace"

// Reconciler installs the default VM classes into vSphere Namespaces.
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
		return o.GetLabels()[VSphereNamespaceLabel] == "true"
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Namespace{}, builder.WithPredicates(isVSphereNamespace)).
		Named("vspherenamespace").
		Complete(r)
}

// Reconcile creates each default class the namespace lacks.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, req.NamespacedName, ns); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ns.DeletionTimestamp.IsZero() {
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
