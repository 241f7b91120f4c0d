package vspherenamespace

import (
	"context"
	"fmt"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/wait"
)

// can asks the API server whether user may verb resource of group in
// namespace, as that user.
func can(t *testing.T, user, verb, group, resource, namespace string) (bool, error) {
	t.Helper()
	cfg := rest.CopyConfig(testConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false, err
	}
	review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Verb: verb, Group: group, Resource: resource,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

// An EDIT subject of a vSphere Namespace may create VMs and Tanzu
// Kubernetes clusters there, a VIEW subject may only read them, and both
// may read the shared catalog (images, releases); nobody gets more
// elsewhere.
func TestAccessRolesCoverVMsAndClusters(t *testing.T) {
	ctx := context.Background()
	if err := (&RoleSeeder{Client: testClient}).Start(ctx); err != nil {
		t.Fatal(err)
	}
	name := uniqueName("roles")
	createVSphereNamespace(t, name, vspherev1.VSphereNamespaceSpec{AccessList: []vspherev1.Access{
		{SubjectType: "USER", Subject: "editor", Domain: "vsphere.local", Role: "EDIT"},
		{SubjectType: "USER", Subject: "viewer", Domain: "vsphere.local", Role: "VIEW"},
	}})
	waitConfigured(t, name, vspherev1.ConfigStatusRunning)
	for _, c := range []struct {
		user, verb, group, resource, namespace string
		want                                   bool
	}{
		{"sso:editor@vsphere.local", "create", "vmoperator.vmware.com", "virtualmachines", name, true},
		{"sso:editor@vsphere.local", "create", "run.tanzu.vmware.com", "tanzukubernetesclusters", name, true},
		{"sso:editor@vsphere.local", "create", "vmoperator.vmware.com", "virtualmachines", "default", false},
		{"sso:viewer@vsphere.local", "list", "vmoperator.vmware.com", "virtualmachines", name, true},
		{"sso:viewer@vsphere.local", "create", "vmoperator.vmware.com", "virtualmachines", name, false},
		{"sso:viewer@vsphere.local", "list", "vmoperator.vmware.com", "clustervirtualmachineimages", "", true},
		{"sso:nobody@vsphere.local", "list", "run.tanzu.vmware.com", "tanzukubernetesreleases", "", true},
		{"sso:nobody@vsphere.local", "list", "run.tanzu.vmware.com", "tanzukubernetesclusters", name, false},
	} {
		// kube-controller-manager folds the roles into edit and view.
		wait.For(t, timeout, fmt.Sprintf("%s %s %s in %q: %v", c.user, c.verb, c.resource, c.namespace, c.want), func() (bool, error) {
			allowed, err := can(t, c.user, c.verb, c.group, c.resource, c.namespace)
			return err == nil && allowed == c.want, err
		})
	}
}
