package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// addonSlots pairs v1alpha1's addon fields with v1alpha3 addon types, in
// the order v1alpha3 lists them.
var addonSlots = []struct {
	typ  v1alpha3.AddonType
	slot func(*AddonsStatuses) **AddonStatus
}{
	{v1alpha3.AddonDNS, func(a *AddonsStatuses) **AddonStatus { return &a.DNS }},
	{v1alpha3.AddonProxy, func(a *AddonsStatuses) **AddonStatus { return &a.Proxy }},
	{v1alpha3.AddonPSP, func(a *AddonsStatuses) **AddonStatus { return &a.PSP }},
	{v1alpha3.AddonCNI, func(a *AddonsStatuses) **AddonStatus { return &a.CNI }},
	{v1alpha3.AddonCSI, func(a *AddonsStatuses) **AddonStatus { return &a.CSI }},
	{v1alpha3.AddonCPI, func(a *AddonsStatuses) **AddonStatus { return &a.CloudProvider }},
	{v1alpha3.AddonAuthService, func(a *AddonsStatuses) **AddonStatus { return &a.AuthService }},
}

func statusToHub(s TanzuKubernetesClusterStatus) v1alpha3.TanzuKubernetesClusterStatus {
	out := v1alpha3.TanzuKubernetesClusterStatus{Version: s.Version, Phase: v1alpha3.TanzuKubernetesClusterPhase(s.Phase),
		VMStatus: convertMap[v1alpha3.VirtualMachineState](s.VMStatus), NodeStatus: convertMap[v1alpha3.NodeStatus](s.NodeStatus)}
	if s.ClusterAPIStatus != nil {
		for _, e := range s.ClusterAPIStatus.APIEndpoints {
			out.APIEndpoints = append(out.APIEndpoints, v1alpha3.APIEndpoint(e))
		}
	}
	if s.Addons != nil {
		for _, slot := range addonSlots {
			if a := *slot.slot(s.Addons); a != nil {
				out.Addons = append(out.Addons, addonToHub(slot.typ, *a))
			}
		}
	}
	return out
}

func statusFromHub(s v1alpha3.TanzuKubernetesClusterStatus) TanzuKubernetesClusterStatus {
	out := TanzuKubernetesClusterStatus{Version: s.Version, Phase: TanzuKubernetesClusterPhase(s.Phase),
		VMStatus: convertMap[VirtualMachineState](s.VMStatus), NodeStatus: convertMap[NodeStatus](s.NodeStatus)}
	if len(s.APIEndpoints) > 0 {
		out.ClusterAPIStatus = &ClusterAPIStatus{}
		for _, e := range s.APIEndpoints {
			out.ClusterAPIStatus.APIEndpoints = append(out.ClusterAPIStatus.APIEndpoints, APIEndpoint(e))
		}
	}
	for _, a := range s.Addons {
		for _, slot := range addonSlots {
			if slot.typ == a.Type {
				if out.Addons == nil {
					out.Addons = &AddonsStatuses{}
				}
				*slot.slot(out.Addons) = addonFromHub(a)
			}
		}
	}
	return out
}

// mergeStatus returns the hub status a v1alpha1 object came from if
// v1alpha1 changed nothing of it; otherwise the converted status, keeping
// what v1alpha1 cannot say (conditions, worker total).
func mergeStatus(converted, restored v1alpha3.TanzuKubernetesClusterStatus, s TanzuKubernetesClusterStatus) v1alpha3.TanzuKubernetesClusterStatus {
	if equality.Semantic.DeepEqual(statusFromHub(restored), hubPart(s)) {
		return restored
	}
	converted.Conditions = restored.Conditions
	converted.TotalWorkerReplicas = restored.TotalWorkerReplicas
	return converted
}

// hubPart is the part of a v1alpha1 status that v1alpha3 expresses.
func hubPart(s TanzuKubernetesClusterStatus) TanzuKubernetesClusterStatus {
	return statusFromHub(statusToHub(s))
}

// An addon's state is its Provisioned condition in v1alpha3.
func addonToHub(typ v1alpha3.AddonType, a AddonStatus) v1alpha3.AddonStatus {
	c := v1alpha3.Condition{Type: v1alpha3.ProvisionedCondition, Status: corev1.ConditionUnknown, Message: a.LastErrorMessage}
	switch a.Status {
	case AddonStateApplied:
		c.Status = corev1.ConditionTrue
	case AddonStateUnmanaged:
		c.Status, c.Reason = corev1.ConditionTrue, v1alpha3.AddonUnManagedReason
	case AddonStateError:
		c.Status, c.Reason, c.Severity = corev1.ConditionFalse, v1alpha3.AddonsReconciliationFailedReason, v1alpha3.ConditionSeverityError
	case AddonStatePending:
	default:
		c.Reason = string(a.Status)
	}
	return v1alpha3.AddonStatus{Name: a.Name, Type: typ, Version: a.Version, Conditions: v1alpha3.Conditions{c}}
}

func addonFromHub(a v1alpha3.AddonStatus) *AddonStatus {
	out := &AddonStatus{Name: a.Name, Version: a.Version, Status: AddonStatePending}
	for _, c := range a.Conditions {
		if c.Type != v1alpha3.ProvisionedCondition {
			continue
		}
		out.LastErrorMessage = c.Message
		switch {
		case c.Status == corev1.ConditionTrue && c.Reason == v1alpha3.AddonUnManagedReason:
			out.Status = AddonStateUnmanaged
		case c.Status == corev1.ConditionTrue:
			out.Status = AddonStateApplied
		case c.Status == corev1.ConditionFalse:
			out.Status = AddonStateError
		case c.Reason != "":
			out.Status = AddonState(c.Reason)
		}
	}
	return out
}

// convertMap converts a map of one string type to another; nil stays nil.
func convertMap[To, From ~string](in map[string]From) map[string]To {
	if in == nil {
		return nil
	}
	out := make(map[string]To, len(in))
	for k, v := range in {
		out[k] = To(v)
	}
	return out
}
