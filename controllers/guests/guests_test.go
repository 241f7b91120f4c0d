package guests

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// The cloud provider's names: unique per Service name and namespace and
// per cluster, within 63 characters however long the cluster's name.
func TestVirtualMachineServiceName(t *testing.T) {
	svc := func(ns, name string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	a := VirtualMachineServiceName("tkc01", svc("projectcontour", "envoy"))
	if !strings.HasPrefix(a, "tkc01-") || len(a) != len("tkc01-")+21 {
		t.Errorf("name %q: want tkc01- and 21 hex digits", a)
	}
	for _, other := range []string{
		VirtualMachineServiceName("tkc01", svc("default", "envoy")),
		VirtualMachineServiceName("tkc01", svc("projectcontour", "envoy2")),
		VirtualMachineServiceName("tkc02", svc("projectcontour", "envoy")),
	} {
		if other == a {
			t.Errorf("%q names two Services", a)
		}
	}
	if long := VirtualMachineServiceName(strings.Repeat("c", 60), svc("ns", "s")); len(long) > 63 {
		t.Errorf("name %q is longer than 63 characters", long)
	}
}

// EDIT and OWNER entries, and vCenter's Administrators, are cluster-admin
// in the guests, named as vSphere names them; VIEW gets nothing.
func TestDesiredBindings(t *testing.T) {
	got := desiredBindings("ns1", []vspherev1.Access{
		{SubjectType: vspherev1.SubjectTypeGroup, Subject: "DevOps", Domain: "vsphere.local", Role: vspherev1.RoleEdit},
		{SubjectType: vspherev1.SubjectTypeUser, Subject: "alice", Domain: "vsphere.local", Role: vspherev1.RoleOwner},
		{SubjectType: vspherev1.SubjectTypeUser, Subject: "viewer", Domain: "vsphere.local", Role: vspherev1.RoleView},
	})
	want := map[string]string{
		"vmware-system-auth-sync-wcp:ns1:group:vsphere.local:devops":         "Group sso:DevOps@vsphere.local",
		"vmware-system-auth-sync-wcp:ns1:user:vsphere.local:alice":           "User sso:alice@vsphere.local",
		"vmware-system-auth-sync-wcp:ns1:group:vsphere.local:administrators": "Group sso:Administrators@vsphere.local",
	}
	if len(got) != len(want) {
		t.Errorf("%d bindings, want %d: %v", len(got), len(want), got)
	}
	for name, subject := range want {
		b, ok := got[name]
		if !ok {
			t.Errorf("no binding %s", name)
			continue
		}
		if s := b.Subjects[0].Kind + " " + b.Subjects[0].Name; s != subject || b.RoleRef.Name != "cluster-admin" {
			t.Errorf("%s binds %s to %s, want %s to cluster-admin", name, s, b.RoleRef.Name, subject)
		}
	}
}

// The guest's API server adds ipMode to the VIP written into a Service;
// the same address must not count as a change, or every event rewrites
// every Service's status.
func TestSameAddresses(t *testing.T) {
	vip := corev1.LoadBalancerIPModeVIP
	written := []corev1.LoadBalancerIngress{{IP: "127.32.0.12", IPMode: &vip}}
	if !sameAddresses(written, []corev1.LoadBalancerIngress{{IP: "127.32.0.12"}}) {
		t.Error("the same VIP with the API server's ipMode counts as a change")
	}
	if sameAddresses(written, []corev1.LoadBalancerIngress{{IP: "127.32.0.13"}}) {
		t.Error("another VIP counts as the same")
	}
	if sameAddresses(nil, []corev1.LoadBalancerIngress{{IP: "127.32.0.12"}}) {
		t.Error("a first VIP counts as the same as none")
	}
}
