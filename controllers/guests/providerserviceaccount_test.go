package guests

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// Before the guest runs, a ProviderServiceAccount already gets its
// ServiceAccount, Role (its rules), RoleBinding and token Secret in the
// namespace, all controlled by it, and the VSphereCluster says what the
// copy into the guest waits for. Accounts for other clusters are left alone.
func TestProviderServiceAccountInSupervisor(t *testing.T) {
	ctx := context.Background()
	cluster := &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "guest"},
		Spec: clusterv1.ClusterSpec{InfrastructureRef: clusterv1.ContractVersionedObjectReference{
			APIGroup: vmwarev1.GroupVersion.Group, Kind: "VSphereCluster", Name: "guest"}},
	}
	vc := &vmwarev1.VSphereCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "guest"}}
	rules := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"get", "list"}}}
	psa := func(name, cluster string) *vmwarev1.ProviderServiceAccount {
		return &vmwarev1.ProviderServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
			Spec: vmwarev1.ProviderServiceAccountSpec{Ref: &corev1.ObjectReference{Kind: "VSphereCluster", Name: cluster},
				Rules: rules, TargetNamespace: "vmware-system-csi", TargetSecretName: "pvcsi-provider-creds"},
		}
	}
	mine, other := psa("pvcsi", "guest"), psa("other", "another-cluster")
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(cluster, vc, mine, other).WithStatusSubresource(vc).Build()
	r := &ProviderServiceAccountReconciler{Client: c}
	if reqs := r.clustersOf(ctx, mine); len(reqs) != 1 || reqs[0].Name != "guest" {
		t.Errorf("the ProviderServiceAccount maps to %v, want Cluster guest", reqs)
	}
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(cluster)}); err != nil {
		t.Fatal(err)
	}

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: "ns", Name: name} }
	role, binding, sa, token := &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.ServiceAccount{}, &corev1.Secret{}
	for _, o := range []struct {
		name string
		obj  client.Object
	}{{"pvcsi", role}, {"pvcsi", binding}, {"pvcsi", sa}, {"pvcsi-secret", token}} {
		if err := c.Get(ctx, key(o.name), o.obj); err != nil {
			t.Fatalf("%T %s: %v", o.obj, o.name, err)
		}
		if owner := metav1.GetControllerOf(o.obj); owner == nil || owner.Kind != "ProviderServiceAccount" || owner.Name != "pvcsi" {
			t.Errorf("%T %s is controlled by %+v, want the ProviderServiceAccount", o.obj, o.name, owner)
		}
	}
	if len(role.Rules) != 1 || role.Rules[0].Resources[0] != "persistentvolumeclaims" {
		t.Errorf("Role rules %+v, want the account's", role.Rules)
	}
	if binding.RoleRef.Name != "pvcsi" || len(binding.Subjects) != 1 || binding.Subjects[0].Kind != rbacv1.ServiceAccountKind || binding.Subjects[0].Name != "pvcsi" {
		t.Errorf("RoleBinding %+v %+v", binding.RoleRef, binding.Subjects)
	}
	if token.Type != corev1.SecretTypeServiceAccountToken || token.Annotations[corev1.ServiceAccountNameKey] != "pvcsi" || token.Labels[clusterv1.ClusterNameLabel] != "guest" {
		t.Errorf("token Secret type %s, annotations %v, labels %v", token.Type, token.Annotations, token.Labels)
	}
	if reqs := tokenSecretToCluster(ctx, token); len(reqs) != 1 || reqs[0].Name != "guest" {
		t.Errorf("the token Secret maps to %v, want Cluster guest", reqs)
	}
	if err := c.Get(ctx, key("other"), &corev1.ServiceAccount{}); err == nil {
		t.Error("a ProviderServiceAccount of another cluster was acted on")
	}
	if err := c.Get(ctx, key("guest"), vc); err != nil {
		t.Fatal(err)
	}
	cond := conditions.Get(vc, vmwarev1.VSphereClusterProviderServiceAccountsReadyCondition)
	if cond == nil || cond.Status != metav1.ConditionFalse || cond.Message == "" {
		t.Errorf("ProviderServiceAccountsReady = %+v; want False saying it waits for the guest", cond)
	}
}
