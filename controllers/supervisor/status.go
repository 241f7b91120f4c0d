package supervisor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// Reasons of the Supervisor's conditions.
const (
	ReasonReady                 = "Ready"
	ReasonStoragePolicyNotFound = "StoragePolicyNotFound"
	ReasonPortGroupNotFound     = "PortGroupNotFound"
	ReasonInvalidNetwork        = "InvalidNetwork"
	ReasonInvalidLoadBalancer   = "InvalidLoadBalancer"
	ReasonObjectTaken           = "ObjectTaken"
	ReasonWaitingForDataPlane   = "WaitingForDataPlaneAPI"
	ReasonDataPlaneUnreachable  = "DataPlaneAPIUnreachable"
	ReasonWaitingForVIP         = "WaitingForVIP"
	ReasonVIPUnavailable        = "VIPUnavailable"
	ReasonAPIServerNotReady     = "APIServerNotReady"
)

// problem is something an admin must fix in the enable spec or in what it
// names (vCenter objects, the HAProxy appliance). Its condition turns
// False and config_status ERROR.
type problem struct {
	condition, reason string
	// id is the vCenter message id (vcenter.wcp.…); field the enable
	// spec's field as the admin wrote it.
	id, field, message string
	args               []string
}

func (p problem) text() string {
	if p.field == "" {
		return p.message
	}
	return p.field + ": " + p.message
}

// observation is what one reconcile made and saw.
type observation struct {
	problems       []problem
	storageClasses []string
	// masterStorageClass is the master storage policy's StorageClass.
	masterStorageClass string
	// controlPlane is set once the management network's plan is valid.
	controlPlane *controlPlaneState
	networks     []*vspherev1.WorkloadNetwork
	// lb and vip are set once the LoadBalancer exists.
	lb  *lbv1.LoadBalancer
	vip netip.Addr
	// service is the endpoint Service, once it exists.
	service     *corev1.Service
	certificate []byte
	// kubeErr is why /readyz did not answer ok.
	kubeErr error
}

func (o *observation) add(p problem) { o.problems = append(o.problems, p) }

// loadBalancerState is where the endpoint stands: a problem, a wait, or
// serving (both empty).
func loadBalancerState(o *observation) (p *problem, waiting string) {
	if o.lb == nil {
		return nil, "Waiting for the load balancer to be created"
	}
	c := meta.FindStatusCondition(o.lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable)
	var servers []string
	for _, s := range o.lb.Spec.HAProxy.Servers {
		servers = append(servers, fmt.Sprintf("%s:%d", s.Host, s.Port))
	}
	switch {
	case c == nil:
		return nil, fmt.Sprintf("Waiting for the HAProxy Data Plane API of load balancer %s (%s) to answer", o.lb.Name, strings.Join(servers, ", "))
	case c.Status != metav1.ConditionTrue:
		return &problem{
			condition: vspherev1.SupervisorLoadBalancerReadyCondition, reason: ReasonDataPlaneUnreachable,
			id: "vcenter.wcp.loadbalancer.dataplaneapi.unreachable", field: "load_balancer_config_spec.ha_proxy_config_create_spec",
			args: []string{o.lb.Name, c.Message},
			message: fmt.Sprintf("the HAProxy Data Plane API of load balancer %s (%s) cannot be used: %s. Check that the servers answer, that username and password are right and that certificate_authority_chain signs the API's certificate",
				o.lb.Name, strings.Join(servers, ", "), c.Message),
		}, ""
	case o.service == nil:
		return nil, "Waiting for the endpoint Service to be created"
	}
	ready := meta.FindStatusCondition(o.service.Status.Conditions, lbv1.ConditionLoadBalancerReady)
	if ready != nil && ready.Status == metav1.ConditionFalse && (ready.Reason == lbv1.ReasonVIPUnavailable || ready.Reason == lbv1.ReasonConfigRejected) {
		return &problem{
			condition: vspherev1.SupervisorLoadBalancerReadyCondition, reason: ReasonVIPUnavailable,
			id: "vcenter.wcp.loadbalancer.vip.unavailable", field: "load_balancer_config_spec.address_ranges",
			args:    []string{o.vip.String(), ready.Message},
			message: fmt.Sprintf("the endpoint VIP %s cannot be served: %s", o.vip, ready.Message),
		}, ""
	}
	if !slices.ContainsFunc(o.service.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) bool { return i.IP == o.vip.String() }) {
		msg := fmt.Sprintf("Waiting for load balancer %s to serve the endpoint VIP %s", o.lb.Name, o.vip)
		if ready != nil && ready.Message != "" {
			msg += ": " + ready.Message
		}
		return nil, msg
	}
	return nil, ""
}

// setStatus writes config_status, kubernetes_status, the messages, the
// endpoint and the conditions from what the reconcile saw.
func setStatus(sv *vspherev1.Supervisor, o *observation) {
	problems := slices.Clone(o.problems)
	lbProblem, waiting := loadBalancerState(o)
	if lbProblem != nil {
		problems = append(problems, *lbProblem)
	}
	byCondition := func(cond string) []problem {
		var out []problem
		for _, p := range problems {
			if p.condition == cond {
				out = append(out, p)
			}
		}
		return out
	}
	condition := func(cond string, ok string, wait string) {
		ps := byCondition(cond)
		c := metav1.Condition{Type: cond, Status: metav1.ConditionTrue, Reason: ReasonReady, Message: ok, ObservedGeneration: sv.Generation}
		switch {
		case len(ps) > 0:
			failed(&c, ps)
		case wait != "":
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonWaitingForVIP, wait
			if o.lb != nil && meta.FindStatusCondition(o.lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable) == nil {
				c.Reason = ReasonWaitingForDataPlane
			}
		}
		meta.SetStatusCondition(&sv.Status.Conditions, c)
	}
	condition(vspherev1.SupervisorStorageReadyCondition, "StorageClasses "+strings.Join(o.storageClasses, ", ")+" exist", "")
	var networks []string
	for _, n := range o.networks {
		networks = append(networks, fmt.Sprintf("WorkloadNetwork %s on portgroup %s", n.Name, n.Spec.PortGroup))
	}
	networkOK := strings.Join(networks, ", ")
	condition(vspherev1.SupervisorNetworkReadyCondition, networkOK, "")
	condition(vspherev1.SupervisorLoadBalancerReadyCondition, fmt.Sprintf("The endpoint %s serves ports %d and %d", o.vip, APIServerPort, LoginPort), waiting)

	serving := lbProblem == nil && waiting == ""
	sv.Status.APIServerClusterEndpoint = ""
	if serving {
		sv.Status.APIServerClusterEndpoint = o.vip.String()
	}
	if o.certificate != nil {
		sv.Status.TLSEndpointCertificate = string(o.certificate)
	}
	cpWaiting := "Waiting for the control-plane VMs to be planned"
	sv.Status.APIServers, sv.Status.APIServerManagementEndpoint = nil, ""
	if cp := o.controlPlane; cp != nil {
		cpWaiting = cp.waiting
		sv.Status.APIServers = cp.addresses
		sv.Status.APIServerManagementEndpoint = cp.floatingIP.String()
	}
	if waiting == "" {
		waiting = cpWaiting
	}
	switch {
	case len(problems) > 0:
		sv.Status.ConfigStatus = vspherev1.ConfigStatusError
		sv.Status.Messages = make([]vspherev1.Message, 0, len(problems))
		for _, p := range problems {
			sv.Status.Messages = append(sv.Status.Messages, vspherev1.Message{Severity: "ERROR", ID: p.id, DefaultMessage: p.text(), Args: p.args})
		}
	case serving && cpWaiting == "":
		sv.Status.ConfigStatus = vspherev1.ConfigStatusRunning
		sv.Status.Messages = nil
	default:
		sv.Status.ConfigStatus = vspherev1.ConfigStatusConfiguring
		sv.Status.Messages = []vspherev1.Message{{Severity: "INFO", ID: "vcenter.wcp.cluster.configuring", DefaultMessage: waiting}}
	}
	setControlPlaneStatus(sv, o, byCondition(vspherev1.SupervisorControlPlaneReadyCondition), cpWaiting)
}

// setControlPlaneStatus writes kubernetes_status and the ControlPlaneReady
// condition: the VMs' problems first, then what they wait for, then the
// API server's health.
func setControlPlaneStatus(sv *vspherev1.Supervisor, o *observation, problems []problem, waiting string) {
	c := metav1.Condition{
		Type: vspherev1.SupervisorControlPlaneReadyCondition, Status: metav1.ConditionTrue, Reason: ReasonReady,
		Message:            fmt.Sprintf("Control-plane VMs run at %s; the API server is ready", strings.Join(sv.Status.APIServers, ", ")),
		ObservedGeneration: sv.Generation,
	}
	if o.kubeErr != nil {
		sv.Status.KubernetesStatus = vspherev1.KubernetesStatusError
		msg := "The supervisor's API server is not ready: " + o.kubeErr.Error()
		sv.Status.KubernetesStatusMessages = []vspherev1.Message{{Severity: "ERROR", ID: "vcenter.wcp.cluster.k8s.health.endpoint.problem", DefaultMessage: msg}}
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonAPIServerNotReady, msg
	} else {
		sv.Status.KubernetesStatus = vspherev1.KubernetesStatusReady
		sv.Status.KubernetesStatusMessages = nil
	}
	switch {
	case len(problems) > 0:
		failed(&c, problems)
	case waiting != "":
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonWaitingForControlPlaneVMs, waiting
	}
	meta.SetStatusCondition(&sv.Status.Conditions, c)
}

// failed turns c False with the first problem's reason and every
// problem's text.
func failed(c *metav1.Condition, problems []problem) {
	texts := make([]string, 0, len(problems))
	for _, p := range problems {
		texts = append(texts, p.text())
	}
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, problems[0].reason, strings.Join(texts, "; ")
}

// setConfiguring records that enabling started.
func setConfiguring(sv *vspherev1.Supervisor, msg string) {
	sv.Status.ConfigStatus = vspherev1.ConfigStatusConfiguring
	sv.Status.Messages = []vspherev1.Message{{Severity: "INFO", ID: "vcenter.wcp.cluster.configuring", DefaultMessage: msg}}
}

// setRemoving records the progress of disabling.
func setRemoving(sv *vspherev1.Supervisor, msg string) {
	sv.Status.ConfigStatus = vspherev1.ConfigStatusRemoving
	sv.Status.APIServerClusterEndpoint = ""
	if msg != "" {
		sv.Status.Messages = []vspherev1.Message{{Severity: "INFO", ID: "vcenter.wcp.cluster.removing", DefaultMessage: msg}}
	}
}
