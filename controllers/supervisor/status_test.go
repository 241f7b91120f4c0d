package supervisor

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/open-supervisor/supervisor/api"
	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func lbWith(conds ...metav1.Condition) *lbv1.LoadBalancer {
	lb := &lbv1.LoadBalancer{ObjectMeta: metav1.ObjectMeta{Name: "haproxy"}}
	lb.Spec.HAProxy.Servers = []lbv1.DataPlaneAPIServer{{Host: "10.0.0.5", Port: 5556}}
	lb.Status.Conditions = conds
	return lb
}

func svcWith(ingress string, conds ...metav1.Condition) *corev1.Service {
	s := &corev1.Service{}
	if ingress != "" {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ingress}}
	}
	s.Status.Conditions = conds
	return s
}

var (
	reachable   = metav1.Condition{Type: lbv1.ConditionDataPlaneAPIReachable, Status: metav1.ConditionTrue, Reason: lbv1.ReasonReachable}
	unreachable = metav1.Condition{Type: lbv1.ConditionDataPlaneAPIReachable, Status: metav1.ConditionFalse, Reason: lbv1.ReasonUnreachable, Message: "x509: certificate signed by unknown authority"}
	serving     = metav1.Condition{Type: lbv1.ConditionLoadBalancerReady, Status: metav1.ConditionTrue, Reason: lbv1.ReasonVIPServing}
	vipTaken    = metav1.Condition{Type: lbv1.ConditionLoadBalancerReady, Status: metav1.ConditionFalse, Reason: lbv1.ReasonVIPUnavailable, Message: "VIP 10.1.0.1 is held by Service default/web"}
	notAnswer   = metav1.Condition{Type: lbv1.ConditionLoadBalancerReady, Status: metav1.ConditionFalse, Reason: lbv1.ReasonVIPNotAnswering, Message: "10.1.0.1:6443 does not accept connections yet"}
)

func TestSetStatus(t *testing.T) {
	vip := netip.MustParseAddr("10.1.0.1")
	cpRunning := &controlPlaneState{floatingIP: netip.MustParseAddr("10.2.0.10"), addresses: []string{"10.2.0.11", "10.2.0.12", "10.2.0.13"}}
	cpWaiting := &controlPlaneState{floatingIP: netip.MustParseAddr("10.2.0.10"), addresses: []string{"10.2.0.11"}, waiting: "Waiting for control-plane VMs supervisorcontrolplanevm-2, supervisorcontrolplanevm-3 to run"}
	vmFailed := problem{condition: vspherev1.SupervisorControlPlaneReadyCondition, reason: ReasonControlPlaneVMFailed, id: "vcenter.wcp.master.vm.failed", message: "control-plane VM supervisorcontrolplanevm-1 cannot be created: no such image"}
	portgroup := problem{condition: vspherev1.SupervisorNetworkReadyCondition, reason: ReasonPortGroupNotFound, id: "vcenter.wcp.network.portgroup.notfound", field: "f", message: "m"}
	for _, tc := range []struct {
		name          string
		obs           observation
		wantConfig    string
		wantEndpoint  string
		wantMessageID string
		wantInMessage string
		wantLBReason  string
	}{
		{"no load balancer yet", observation{}, vspherev1.ConfigStatusConfiguring, "", "vcenter.wcp.cluster.configuring", "load balancer to be created", ReasonWaitingForVIP},
		{"Data Plane API not seen yet", observation{lb: lbWith(), vip: vip}, vspherev1.ConfigStatusConfiguring, "", "vcenter.wcp.cluster.configuring", "10.0.0.5:5556", ReasonWaitingForDataPlane},
		{"Data Plane API unusable", observation{lb: lbWith(unreachable), vip: vip, service: svcWith("")}, vspherev1.ConfigStatusError, "",
			"vcenter.wcp.loadbalancer.dataplaneapi.unreachable", "x509: certificate signed by unknown authority", ReasonDataPlaneUnreachable},
		{"VIP not answering yet", observation{lb: lbWith(reachable), vip: vip, service: svcWith("", notAnswer)}, vspherev1.ConfigStatusConfiguring, "",
			"vcenter.wcp.cluster.configuring", "does not accept connections yet", ReasonWaitingForVIP},
		{"VIP held by another Service", observation{lb: lbWith(reachable), vip: vip, service: svcWith("", vipTaken)}, vspherev1.ConfigStatusError, "",
			"vcenter.wcp.loadbalancer.vip.unavailable", "held by Service default/web", ReasonVIPUnavailable},
		{"serving, control plane not running", observation{lb: lbWith(reachable), vip: vip, service: svcWith("10.1.0.1", serving), controlPlane: cpWaiting},
			vspherev1.ConfigStatusConfiguring, "10.1.0.1", "vcenter.wcp.cluster.configuring", "supervisorcontrolplanevm-3", ReasonReady},
		{"serving, a control-plane VM failed", observation{lb: lbWith(reachable), vip: vip, service: svcWith("10.1.0.1", serving), controlPlane: cpWaiting, problems: []problem{vmFailed}},
			vspherev1.ConfigStatusError, "10.1.0.1", "vcenter.wcp.master.vm.failed", "no such image", ReasonReady},
		{"serving", observation{lb: lbWith(reachable), vip: vip, service: svcWith("10.1.0.1", serving), controlPlane: cpRunning}, vspherev1.ConfigStatusRunning, "10.1.0.1", "", "", ReasonReady},
		{"serving but the network is wrong", observation{lb: lbWith(reachable), vip: vip, service: svcWith("10.1.0.1", serving), controlPlane: cpRunning, problems: []problem{portgroup}},
			vspherev1.ConfigStatusError, "10.1.0.1", "vcenter.wcp.network.portgroup.notfound", "f: m", ReasonReady},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sv := &vspherev1.Supervisor{}
			setStatus(sv, &tc.obs)
			if sv.Status.ConfigStatus != tc.wantConfig || sv.Status.APIServerClusterEndpoint != tc.wantEndpoint {
				t.Errorf("configStatus %q, endpoint %q; want %q, %q", sv.Status.ConfigStatus, sv.Status.APIServerClusterEndpoint, tc.wantConfig, tc.wantEndpoint)
			}
			if tc.wantMessageID == "" && len(sv.Status.Messages) != 0 {
				t.Errorf("messages %+v, want none", sv.Status.Messages)
			}
			if tc.wantMessageID != "" && (len(sv.Status.Messages) != 1 || sv.Status.Messages[0].ID != tc.wantMessageID ||
				!strings.Contains(sv.Status.Messages[0].DefaultMessage, tc.wantInMessage)) {
				t.Errorf("messages %+v; want %s saying %q", sv.Status.Messages, tc.wantMessageID, tc.wantInMessage)
			}
			if c := meta.FindStatusCondition(sv.Status.Conditions, vspherev1.SupervisorLoadBalancerReadyCondition); c == nil || c.Reason != tc.wantLBReason {
				t.Errorf("LoadBalancerReady = %+v, want reason %s", c, tc.wantLBReason)
			}
			if sv.Status.KubernetesStatus != vspherev1.KubernetesStatusReady {
				t.Errorf("kubernetesStatus %q", sv.Status.KubernetesStatus)
			}
			cp := meta.FindStatusCondition(sv.Status.Conditions, vspherev1.SupervisorControlPlaneReadyCondition)
			if wantCP := tc.obs.controlPlane == cpRunning; cp == nil || (cp.Status == metav1.ConditionTrue) != wantCP {
				t.Errorf("ControlPlaneReady = %+v; want true: %v", cp, wantCP)
			}
			if tc.obs.controlPlane != nil && (len(sv.Status.APIServers) != len(tc.obs.controlPlane.addresses) || sv.Status.APIServerManagementEndpoint != "10.2.0.10") {
				t.Errorf("apiServers %v, management endpoint %q", sv.Status.APIServers, sv.Status.APIServerManagementEndpoint)
			}
		})
	}
}

func TestSetStatusKubernetes(t *testing.T) {
	sv := &vspherev1.Supervisor{}
	setStatus(sv, &observation{kubeErr: errors.New("/readyz: [-]etcd failed")})
	if sv.Status.KubernetesStatus != vspherev1.KubernetesStatusError || len(sv.Status.KubernetesStatusMessages) != 1 ||
		sv.Status.KubernetesStatusMessages[0].ID != "vcenter.wcp.cluster.k8s.health.endpoint.problem" ||
		!strings.Contains(sv.Status.KubernetesStatusMessages[0].DefaultMessage, "etcd failed") {
		t.Errorf("status = %+v", sv.Status)
	}
	if c := meta.FindStatusCondition(sv.Status.Conditions, vspherev1.SupervisorControlPlaneReadyCondition); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("ControlPlaneReady = %+v", c)
	}
}

// TestWaitForVIPRelease: disabling waits for lbapi to take the VIPs off a
// reachable HAProxy, for at most vipReleaseTimeout.
func TestWaitForVIPRelease(t *testing.T) {
	ctx := context.Background()
	deleted := time.Unix(1000, 0)
	sv := &vspherev1.Supervisor{ObjectMeta: metav1.ObjectMeta{Name: "domain-c8", UID: "sv-uid", DeletionTimestamp: &metav1.Time{Time: deleted}}}
	sv.Spec.LoadBalancer.ID = "haproxy"
	for _, tc := range []struct {
		name      string
		cond      metav1.Condition
		inUse     int32
		at        time.Duration
		wantWait  bool
		wantAfter time.Duration
	}{
		{"VIPs in use", reachable, 2, 10 * time.Second, true, 50 * time.Second},
		{"all released", reachable, 0, 10 * time.Second, false, 0},
		{"HAProxy unreachable: nothing to clean", unreachable, 2, 10 * time.Second, false, 0},
		{"gave up waiting", reachable, 2, 61 * time.Second, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lb := lbWith(tc.cond)
			lb.Status.VIPsInUse = tc.inUse
			scheme := api.NewScheme()
			if err := controllerutil.SetControllerReference(sv, lb, scheme); err != nil {
				t.Fatal(err)
			}
			r := &Reconciler{
				Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(lb).Build(),
				Now:    func() time.Time { return deleted.Add(tc.at) },
			}
			waiting, after, err := r.waitForVIPRelease(ctx, sv)
			if err != nil || (waiting != "") != tc.wantWait || after != tc.wantAfter {
				t.Errorf("waiting %q, requeue after %s, err %v; want wait %v after %s", waiting, after, err, tc.wantWait, tc.wantAfter)
			}
		})
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"https://127.0.0.1:41234": "127.0.0.1:41234",
		"https://api.example.com": "api.example.com:443",
		"127.0.0.1:6443":          "127.0.0.1:6443",
		"https://[::1]:6443":      "[::1]:6443",
	} {
		if got, err := hostPort(in); err != nil || got != want {
			t.Errorf("hostPort(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
