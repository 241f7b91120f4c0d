package wcp

import (
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// roleRank orders access roles: a user with several entries (directly and
// through groups) has the strongest.
var roleRank = map[string]int{vspherev1.RoleView: 1, vspherev1.RoleEdit: 2, vspherev1.RoleOwner: 3}

// RoleIn returns the strongest role id has in ns's access list, by user or
// by any of its groups, or "" when it has none. Names compare
// case-insensitively, as SSO compares them.
func RoleIn(ns *vspherev1.VSphereNamespace, id Identity) string {
	best := ""
	for _, a := range ns.Spec.AccessList {
		if !names(a, id) {
			continue
		}
		if roleRank[a.Role] > roleRank[best] {
			best = a.Role
		}
	}
	return best
}

// names says whether access entry a is about id.
func names(a vspherev1.Access, id Identity) bool {
	subject := Principal{Name: a.Subject, Domain: a.Domain}
	switch a.SubjectType {
	case vspherev1.SubjectTypeUser:
		return subject.Is(id.Principal())
	case vspherev1.SubjectTypeGroup:
		return id.InGroup(subject)
	}
	return false
}

// canSeeNamespace: any role lists the namespace in /wcp/workloads, as any
// role gives some access to it.
func canSeeNamespace(role string) bool { return roleRank[role] > 0 }

// canLogInToGuest: OWNER and EDIT make a user cluster-admin of the guest
// clusters of the namespace; VIEW gives no guest cluster access (the
// reference's authorization model), so its users get no guest login.
func canLogInToGuest(role string) bool { return roleRank[role] >= roleRank[vspherev1.RoleEdit] }

// isAdministrator says whether id is in the administrators group, which
// sees every namespace and may log in to every guest cluster.
func (s *Server) isAdministrator(id Identity) bool { return id.InGroup(s.admins) }
