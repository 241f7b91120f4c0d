package wcp

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func workloadObjects() []client.Object {
	return []client.Object{
		supervisor("domain-c8", "192.168.10.2", "", "supervisor.lab.local"),
		supervisor("domain-c9", "192.168.20.2", ""),
		vsphereNamespace("by-user", "domain-c8", user("alice", vspherev1.RoleView)),
		vsphereNamespace("by-group", "domain-c9", group("devs", vspherev1.RoleEdit)),
		// SSO names are case-insensitive.
		vsphereNamespace("by-user-other-case", "domain-c8", vspherev1.Access{SubjectType: "USER", Subject: "Alice", Domain: "VSPHERE.LOCAL", Role: "OWNER"}),
		vsphereNamespace("bobs", "domain-c8", user("bob", vspherev1.RoleOwner)),
		// A group named like the user is not the user.
		vsphereNamespace("group-named-alice", "domain-c8", group("alice", vspherev1.RoleEdit)),
		vsphereNamespace("no-supervisor", "domain-c404", user("alice", vspherev1.RoleEdit)),
	}
}

func listWorkloads(t *testing.T, e *env, header http.Header) []Workload {
	t.Helper()
	w := e.do(http.MethodGet, "/wcp/workloads", "", header)
	if w.Code != http.StatusOK {
		t.Fatalf("workloads: %d %s", w.Code, w.Body)
	}
	var list []Workload
	decode(t, w, &list)
	return list
}

func namespaceNames(list []Workload) []string {
	out := []string{}
	for _, w := range list {
		out = append(out, w.Namespace)
	}
	return out
}

func TestWorkloadsAreFilteredByAccess(t *testing.T) {
	e := newEnv(t, workloadObjects())
	for _, tc := range []struct {
		user, password string
		want           []string
	}{
		{"alice@vsphere.local", "alice-pw", []string{"by-group", "by-user", "by-user-other-case"}},
		{"bob@vsphere.local", "bob-pw", []string{"bobs"}},
		{"carol@vsphere.local", "carol-pw", []string{}},
		// Administrators see every namespace with an endpoint.
		{"administrator@vsphere.local", "admin-pw", []string{"bobs", "by-group", "by-user", "by-user-other-case", "group-named-alice"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			token := e.login(t, tc.user, tc.password)
			for name, header := range map[string]http.Header{"bearer": bearer(token), "basic": basic(tc.user, tc.password)} {
				if got := namespaceNames(listWorkloads(t, e, header)); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("with %s: namespaces = %v, want %v", name, got, tc.want)
				}
			}
		})
	}
}

func TestWorkloadsWireShape(t *testing.T) {
	e := newEnv(t, workloadObjects())
	token := e.login(t, "alice@vsphere.local", "alice-pw")
	w := e.do(http.MethodGet, "/wcp/workloads", "", bearer(token))
	want := `[{"namespace":"by-group","master_host":"192.168.20.2","conrol_plane_api_server_port":"6443","control_plane_dns_names":[]},` +
		`{"namespace":"by-user","master_host":"192.168.10.2","conrol_plane_api_server_port":"6443","control_plane_dns_names":["supervisor.lab.local"]},` +
		`{"namespace":"by-user-other-case","master_host":"192.168.10.2","conrol_plane_api_server_port":"6443","control_plane_dns_names":["supervisor.lab.local"]}]`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body =\n%s\nwant\n%s", got, want)
	}

	carol := e.login(t, "carol@vsphere.local", "carol-pw")
	if got := strings.TrimSpace(e.do(http.MethodGet, "/wcp/workloads", "", bearer(carol)).Body.String()); got != "[]" {
		t.Errorf("a user without access gets %s, want []", got)
	}
}

func TestWorkloadsNeedCredentials(t *testing.T) {
	e := newEnv(t, workloadObjects())
	wantJSONError(t, e.do(http.MethodGet, "/wcp/workloads", "", nil), http.StatusUnauthorized, errUnauthenticated)
	wantJSONError(t, e.do(http.MethodGet, "/wcp/workloads", "", bearer("garbage")), http.StatusUnauthorized, errUnauthenticated)
	wantJSONError(t, e.do(http.MethodGet, "/wcp/workloads", "", basic("alice@vsphere.local", "wrong")), http.StatusUnauthorized, errUnauthenticated)
}

func TestRoleIn(t *testing.T) {
	alice := Identity{User: "alice", Domain: "vsphere.local", Groups: []Principal{devs}}
	for _, tc := range []struct {
		name   string
		access []vspherev1.Access
		want   string
	}{
		{"none", nil, ""},
		{"user", []vspherev1.Access{user("alice", "VIEW")}, "VIEW"},
		{"the strongest of user and group", []vspherev1.Access{user("alice", "VIEW"), group("devs", "OWNER")}, "OWNER"},
		{"another domain", []vspherev1.Access{{SubjectType: "USER", Subject: "alice", Domain: "corp.local", Role: "EDIT"}}, ""},
		{"an unknown subject type", []vspherev1.Access{{SubjectType: "ROBOT", Subject: "alice", Domain: "vsphere.local", Role: "EDIT"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RoleIn(vsphereNamespace("ns", "c", tc.access...), alice); got != tc.want {
				t.Errorf("RoleIn = %q, want %q", got, tc.want)
			}
		})
	}
}
