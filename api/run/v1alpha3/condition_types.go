package v1alpha3

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionSeverity says how bad a False condition is (Cluster API's).
type ConditionSeverity string

// Condition severities.
const (
	ConditionSeverityError   ConditionSeverity = "Error"
	ConditionSeverityWarning ConditionSeverity = "Warning"
	ConditionSeverityInfo    ConditionSeverity = "Info"
	ConditionSeverityNone    ConditionSeverity = ""
)

// Condition is a Cluster API (v1beta1) condition: clients of vSphere read
// conditions in this shape, severity included, so it is declared here rather
// than using metav1.Condition.
type Condition struct {
	// Type of condition in CamelCase.
	Type string `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status corev1.ConditionStatus `json:"status"`
	// Severity of a False condition.
	// +optional
	Severity ConditionSeverity `json:"severity,omitempty"`
	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`
	// Reason in CamelCase for the last transition.
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message for humans.
	// +optional
	Message string `json:"message,omitempty"`
}

// Conditions is a list of conditions.
type Conditions []Condition

// Set sets c, keeping the transition time while the status stays the same
// (Cluster API's conditions.Set, for this condition type).
func (conds *Conditions) Set(c Condition, now metav1.Time) {
	for i := range *conds {
		cur := &(*conds)[i]
		if cur.Type != c.Type {
			continue
		}
		c.LastTransitionTime = cur.LastTransitionTime
		if cur.Status != c.Status {
			c.LastTransitionTime = now
		}
		*cur = c
		return
	}
	c.LastTransitionTime = now
	*conds = append(*conds, c)
}
