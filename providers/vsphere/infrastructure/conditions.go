package infrastructure

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// setLegacyConditions sets condition t and Ready (which follows it) among
// Cluster API v1beta1-style conditions, the ones CAPV v1.15 readers see as
// status.conditions: reason and a Warning severity only when not True, the
// transition time only when the status changes.
func setLegacyConditions(conditions clusterv1.Conditions, t clusterv1.ConditionType, status metav1.ConditionStatus, reason, msg string) clusterv1.Conditions {
	severity := clusterv1.ConditionSeverityNone
	if status != metav1.ConditionTrue {
		severity = clusterv1.ConditionSeverityInfo
	} else {
		msg = ""
	}
	for _, ct := range []clusterv1.ConditionType{clusterv1.ReadyV1Beta1Condition, t} {
		c := clusterv1.Condition{Type: ct, Status: corev1.ConditionStatus(status), Severity: severity, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()}
		i := 0
		for i < len(conditions) && conditions[i].Type != ct {
			i++
		}
		if i == len(conditions) {
			conditions = append(conditions, c)
			continue
		}
		if conditions[i].Status == c.Status {
			c.LastTransitionTime = conditions[i].LastTransitionTime
		}
		conditions[i] = c
	}
	return conditions
}
