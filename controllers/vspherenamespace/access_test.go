package vspherenamespace

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func TestRoleBindingName(t *testing.T) {
	for _, tc := range []struct {
		a    vspherev1.Access
		want string
	}{
		{vspherev1.Access{SubjectType: "USER", Subject: "Administrator", Domain: "vsphere.local"}, "wcp:ns1:user:vsphere.local:administrator"},
		{vspherev1.Access{SubjectType: "GROUP", Subject: "DevOps", Domain: "CORP.example.com"}, "wcp:ns1:group:corp.example.com:devops"},
		{vspherev1.Access{SubjectType: "GROUP", Subject: "Domain Admins/EU 100%", Domain: "corp"}, "wcp:ns1:group:corp:domain admins-eu 100-"},
	} {
		got := RoleBindingName("ns1", tc.a)
		if got != tc.want {
			t.Errorf("RoleBindingName(%+v) = %q, want %q", tc.a, got, tc.want)
		}
		if errs := path.IsValidPathSegmentName(got); len(errs) > 0 {
			t.Errorf("%q is not a valid RoleBinding name: %v", got, errs)
		}
	}
}

func TestDesiredRoleBindings(t *testing.T) {
	list := []vspherev1.Access{
		{SubjectType: "USER", Subject: "Administrator", Domain: "vsphere.local", Role: "OWNER"},
		{SubjectType: "GROUP", Subject: "viewers", Domain: "vsphere.local", Role: "VIEW"},
		{SubjectType: "USER", Subject: "dev", Domain: "vsphere.local", Role: "VIEW"},
		// The same user again in another case: one binding, edit wins.
		{SubjectType: "USER", Subject: "DEV", Domain: "vsphere.local", Role: "EDIT"},
		{SubjectType: "USER", Subject: "", Domain: "vsphere.local", Role: "EDIT"},
		{SubjectType: "USER", Subject: "x", Domain: "vsphere.local", Role: "ADMIN"},
	}
	got, problems := desiredRoleBindings("ns1", list)
	want := map[string]struct{ role, kind, subject string }{
		"wcp:ns1:user:vsphere.local:administrator": {"edit", rbacv1.UserKind, "sso:Administrator@vsphere.local"},
		"wcp:ns1:group:vsphere.local:viewers":      {"view", rbacv1.GroupKind, "sso:viewers@vsphere.local"},
		"wcp:ns1:user:vsphere.local:dev":           {"edit", rbacv1.UserKind, "sso:dev@vsphere.local"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d bindings, want %d: %+v", len(got), len(want), got)
	}
	for _, rb := range got {
		w, ok := want[rb.Name]
		if !ok {
			t.Errorf("unexpected binding %s", rb.Name)
			continue
		}
		s := rb.Subjects[0]
		if rb.RoleRef.Kind != "ClusterRole" || rb.RoleRef.Name != w.role || rb.RoleRef.APIGroup != rbacv1.GroupName ||
			len(rb.Subjects) != 1 || s.Kind != w.kind || s.Name != w.subject || s.APIGroup != rbacv1.GroupName || rb.Namespace != "ns1" {
			t.Errorf("%s = %+v %+v, want %+v", rb.Name, rb.RoleRef, rb.Subjects, w)
		}
	}
	if len(problems) != 2 || problems[0].field != "spec.accessList[4].subject" || problems[1].wireField != "access_list[5].role" {
		t.Errorf("problems = %+v, want the empty subject of entry 4 and the role of entry 5", problems)
	}
}
