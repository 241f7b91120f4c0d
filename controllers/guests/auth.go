package guests

import (
	"context"
	"errors"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/clustercache"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
)

const (
	// AuthSyncPrefix starts the names of the ClusterRoleBindings vSphere
	// keeps in guest clusters for the vSphere Namespace's access list
	// (vmware-system-auth-sync-wcp:<namespace>:group:<domain>:<group>).
	AuthSyncPrefix = "vmware-system-auth-sync-"
	// ManagedByLabel marks the bindings this package keeps, so that it
	// deletes only its own.
	ManagedByLabel = "run.tanzu.vmware.com/managed-by"
	managedBy      = "vmware-system-auth-sync"
	clusterAdmin   = "cluster-admin"
)

// AuthReconciler keeps each guest cluster's auth-sync ClusterRoleBindings:
// OWNER and EDIT users and groups of the vSphere Namespace, and vCenter's
// Administrators, are cluster-admin; VIEW gives nothing in a guest.
type AuthReconciler struct {
	Client       client.Client
	ClusterCache clustercache.ClusterCache

	controller controller.Controller
}

// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=vspherenamespaces,verbs=get;list;watch

// SetupWithManager watches Clusters on our infrastructure and the vSphere
// Namespaces they live in.
func (r *AuthReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := forGuestClusters(mgr, r.ClusterCache, "guest-auth-sync").
		Watches(&vspherev1.VSphereNamespace{}, handler.EnqueueRequestsFromMapFunc(r.clustersIn)).
		Build(r)
	if err != nil {
		return fmt.Errorf("failed to set up the guest auth-sync controller: %w", err)
	}
	r.controller = c
	return nil
}

// clustersIn maps a vSphere Namespace to its Clusters.
func (r *AuthReconciler) clustersIn(ctx context.Context, o client.Object) []reconcile.Request {
	list := &clusterv1.ClusterList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.GetName())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the Clusters of a vSphere Namespace", "namespace", o.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// Reconcile makes the guest's auth-sync bindings those its namespace's
// access list asks for.
func (r *AuthReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cluster, guest, res, err := connect(ctx, r.Client, r.ClusterCache, r.controller, req, "guest-auth-sync-bindings", &rbacv1.ClusterRoleBinding{})
	if guest == nil || err != nil {
		return res, err
	}
	ns := &vspherev1.VSphereNamespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: cluster.Namespace}, ns); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("failed to get the vSphere Namespace %s: %w", cluster.Namespace, err)
	}
	return ctrl.Result{}, r.sync(ctx, cluster, guest, desiredBindings(cluster.Namespace, ns.Spec.AccessList))
}

// desiredBindings are the auth-sync ClusterRoleBindings of a namespace's
// access list, by name: one per OWNER or EDIT entry, and vCenter's
// Administrators.
func desiredBindings(namespace string, access []vspherev1.Access) map[string]*rbacv1.ClusterRoleBinding {
	out := map[string]*rbacv1.ClusterRoleBinding{}
	for _, a := range append([]vspherev1.Access{vspherenamespace.Administrators}, access...) {
		if a.Role != vspherev1.RoleOwner && a.Role != vspherev1.RoleEdit {
			continue
		}
		kind := rbacv1.UserKind
		if a.SubjectType == vspherev1.SubjectTypeGroup {
			kind = rbacv1.GroupKind
		}
		name := AuthSyncPrefix + vspherenamespace.RoleBindingName(namespace, a)
		out[name] = &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{ManagedByLabel: managedBy}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterAdmin},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: kind, Name: vspherenamespace.SubjectName(a.Subject, a.Domain)}},
		}
	}
	return out
}

// sync creates and updates the desired bindings and deletes the other
// auth-sync ones.
func (r *AuthReconciler) sync(ctx context.Context, cluster *clusterv1.Cluster, guest client.Client, want map[string]*rbacv1.ClusterRoleBinding) error {
	log := ctrl.LoggerFrom(ctx)
	existing := &rbacv1.ClusterRoleBindingList{}
	if err := guest.List(ctx, existing, client.MatchingLabels{ManagedByLabel: managedBy}); err != nil {
		return fmt.Errorf("failed to list the auth-sync bindings of guest cluster %s: %w", klog.KObj(cluster), err)
	}
	var errs []error
	for i := range existing.Items {
		cur := &existing.Items[i]
		desired, ok := want[cur.Name]
		switch {
		case !ok && strings.HasPrefix(cur.Name, AuthSyncPrefix):
			if err := guest.Delete(ctx, cur); client.IgnoreNotFound(err) != nil {
				errs = append(errs, fmt.Errorf("failed to delete ClusterRoleBinding %s: %w", cur.Name, err))
			} else {
				log.Info("Guest access removed", "ClusterRoleBinding", cur.Name)
			}
		case ok && (cur.RoleRef != desired.RoleRef):
			// The role of a binding cannot change: replace it.
			if err := guest.Delete(ctx, cur); client.IgnoreNotFound(err) != nil {
				errs = append(errs, fmt.Errorf("failed to replace ClusterRoleBinding %s: %w", cur.Name, err))
			}
		case ok && !equality.Semantic.DeepEqual(cur.Subjects, desired.Subjects):
			cur.Subjects = desired.Subjects
			if err := guest.Update(ctx, cur); err != nil {
				errs = append(errs, fmt.Errorf("failed to update ClusterRoleBinding %s: %w", cur.Name, err))
			}
			delete(want, cur.Name)
		case ok:
			delete(want, cur.Name)
		}
	}
	for _, b := range want {
		if err := guest.Create(ctx, b); client.IgnoreAlreadyExists(err) != nil {
			errs = append(errs, fmt.Errorf("failed to create ClusterRoleBinding %s: %w", b.Name, err))
			continue
		}
		log.Info("Guest access granted", "ClusterRoleBinding", b.Name, "subject", b.Subjects[0].Name)
	}
	return errors.Join(errs...)
}
