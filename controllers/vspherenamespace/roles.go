package vspherenamespace

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/open-supervisor/supervisor/internal/retry"
)

// Kubernetes' edit and view ClusterRoles cover only its own kinds; these
// ClusterRoles aggregate into them what a DevOps user works with in a
// vSphere Namespace (VMs, VM services, Tanzu Kubernetes clusters), so that
// OWNER and EDIT may create them and VIEW may read them, as on vSphere.
// kube-controller-manager's aggregation controller folds them in.
const (
	EditAggregateClusterRole = "vsphere-namespace-edit"
	ViewAggregateClusterRole = "vsphere-namespace-view"
	// CatalogReaderClusterRole lets every logged-in user read what all
	// namespaces share: node images and Tanzu Kubernetes releases.
	CatalogReaderClusterRole = "vsphere-catalog-reader"
)

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// namespaceRoles are the aggregated ClusterRoles.
func namespaceRoles() []*rbacv1.ClusterRole {
	rules := func(verbs []string) []rbacv1.PolicyRule {
		return []rbacv1.PolicyRule{
			{APIGroups: []string{"vmoperator.vmware.com"}, Resources: []string{"virtualmachines", "virtualmachineservices", "virtualmachinesetresourcepolicies"}, Verbs: verbs},
			{APIGroups: []string{"vmoperator.vmware.com"}, Resources: []string{"virtualmachines/status", "virtualmachineservices/status", "virtualmachineclasses", "virtualmachineimages"}, Verbs: readVerbs},
			{APIGroups: []string{"run.tanzu.vmware.com"}, Resources: []string{"tanzukubernetesclusters"}, Verbs: verbs},
			{APIGroups: []string{"run.tanzu.vmware.com"}, Resources: []string{"tanzukubernetesclusters/status"}, Verbs: readVerbs},
			{APIGroups: []string{"cluster.x-k8s.io"}, Resources: []string{"clusters", "machines", "machinedeployments", "machinesets"}, Verbs: readVerbs},
		}
	}
	role := func(name, label string, verbs []string) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{label: "true"}},
			Rules:      rules(verbs),
		}
	}
	catalog := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: CatalogReaderClusterRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"vmoperator.vmware.com"}, Resources: []string{"clustervirtualmachineimages"}, Verbs: readVerbs},
			{APIGroups: []string{"run.tanzu.vmware.com"}, Resources: []string{"tanzukubernetesreleases", "tkgserviceconfigurations"}, Verbs: readVerbs},
		},
	}
	return []*rbacv1.ClusterRole{
		role(EditAggregateClusterRole, "rbac.authorization.k8s.io/aggregate-to-edit", writeVerbs),
		role(ViewAggregateClusterRole, "rbac.authorization.k8s.io/aggregate-to-view", readVerbs),
		catalog,
	}
}

// RoleSeeder keeps the aggregated ClusterRoles, and the catalog reader
// bound to every authenticated user, as they should be; it runs once at
// start on the leader.
type RoleSeeder struct {
	Client client.Client
}

// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;patch;escalate
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterrolebindings,verbs=get;list;watch;create;update;patch

// Start applies the ClusterRoles (manager.Runnable), retrying until it can.
func (s *RoleSeeder) Start(ctx context.Context) error {
	return retry.UntilDone(ctx, "seed the namespace ClusterRoles", s.apply)
}

func (s *RoleSeeder) apply(ctx context.Context) error {
	for _, want := range namespaceRoles() {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: want.Name}}
		_, err := controllerutil.CreateOrUpdate(ctx, s.Client, role, func() error {
			if role.Labels == nil {
				role.Labels = map[string]string{}
			}
			for k, v := range want.Labels {
				role.Labels[k] = v
			}
			role.Rules = want.Rules
			return nil
		})
		if err != nil {
			return fmt.Errorf("failed to apply ClusterRole %s: %w", want.Name, err)
		}
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: CatalogReaderClusterRole}}
	_, err := controllerutil.CreateOrUpdate(ctx, s.Client, binding, func() error {
		binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: CatalogReaderClusterRole}
		binding.Subjects = []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"}}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to apply ClusterRoleBinding %s: %w", binding.Name, err)
	}
	return nil
}
