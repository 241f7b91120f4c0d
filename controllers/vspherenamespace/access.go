package vspherenamespace

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// The ClusterRoles vSphere binds for access roles: OWNER and EDIT may
// change what is in the namespace, VIEW may read it.
const (
	EditClusterRole = "edit"
	ViewClusterRole = "view"
)

// Administrators is vCenter's SSO Administrators group: as on vSphere, its
// members may edit every vSphere Namespace whatever its access list says.
var Administrators = vspherev1.Access{
	SubjectType: vspherev1.SubjectTypeGroup, Subject: vspherev1.AdministratorsGroup, Domain: vspherev1.SSODefaultDomain, Role: vspherev1.RoleEdit,
}

// SubjectName is the Kubernetes name of a vCenter user or group. The
// domain is lowercased, as the login's tokens name it (SSO domains are
// case-insensitive); the subject keeps vCenter's case.
func SubjectName(subject, domain string) string {
	return vspherev1.SSONamePrefix + subject + "@" + strings.ToLower(domain)
}

// RoleBindingName is the name vSphere gives the RoleBinding of an access
// entry: wcp:<namespace>:user:<domain>:<subject> (group for groups),
// lowercased, since SSO names are case-insensitive. A RoleBinding name may
// hold any character but "/" and "%", which become "-".
func RoleBindingName(namespace string, a vspherev1.Access) string {
	kind := "user"
	if a.SubjectType == vspherev1.SubjectTypeGroup {
		kind = "group"
	}
	name := strings.ToLower(fmt.Sprintf("wcp:%s:%s:%s:%s", namespace, kind, a.Domain, a.Subject))
	return strings.NewReplacer("/", "-", "%", "-").Replace(name)
}

// ClusterRoleFor maps an access role to the ClusterRole it binds.
func ClusterRoleFor(role string) (string, bool) {
	switch role {
	case vspherev1.RoleOwner, vspherev1.RoleEdit:
		return EditClusterRole, true
	case vspherev1.RoleView:
		return ViewClusterRole, true
	}
	return "", false
}

// desiredRoleBindings returns the RoleBindings the access list asks for, by
// name, sorted, and a problem per entry that cannot be bound. Entries that
// name the same subject (whatever its case) become one binding; edit wins
// over view.
func desiredRoleBindings(namespace string, list []vspherev1.Access) ([]*rbacv1.RoleBinding, []problem) {
	byName := map[string]*rbacv1.RoleBinding{}
	var problems []problem
	for i, a := range list {
		field := fmt.Sprintf("spec.accessList[%d]", i)
		wire := fmt.Sprintf("access_list[%d]", i)
		role, ok := ClusterRoleFor(a.Role)
		var kind string
		switch a.SubjectType {
		case vspherev1.SubjectTypeUser:
			kind = rbacv1.UserKind
		case vspherev1.SubjectTypeGroup:
			kind = rbacv1.GroupKind
		}
		switch {
		case !ok:
			problems = append(problems, badAccess(field+".role", wire+".role", fmt.Sprintf("role %q is not OWNER, EDIT or VIEW", a.Role)))
			continue
		case kind == "":
			problems = append(problems, badAccess(field+".subjectType", wire+".subject_type", fmt.Sprintf("subject type %q is not USER or GROUP", a.SubjectType)))
			continue
		case strings.TrimSpace(a.Subject) == "":
			problems = append(problems, badAccess(field+".subject", wire+".subject", "the subject is empty"))
			continue
		case strings.TrimSpace(a.Domain) == "":
			problems = append(problems, badAccess(field+".domain", wire+".domain", "the domain is empty"))
			continue
		}
		name := RoleBindingName(namespace, a)
		if have, dup := byName[name]; dup {
			if role == EditClusterRole {
				have.RoleRef.Name = EditClusterRole
			}
			continue
		}
		byName[name] = &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: kind, APIGroup: rbacv1.GroupName, Name: SubjectName(a.Subject, a.Domain)}},
		}
	}
	out := make([]*rbacv1.RoleBinding, 0, len(byName))
	for _, rb := range byName {
		out = append(out, rb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, problems
}

func badAccess(field, wire, msg string) problem {
	return problem{
		reason: ReasonInvalidAccess, id: "vcenter.wcp.namespace.access.invalid",
		field: field, wireField: wire, message: msg,
	}
}
