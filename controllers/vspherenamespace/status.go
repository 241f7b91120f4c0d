package vspherenamespace

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// Reasons of the Configured condition.
const (
	ReasonConfigured            = "Configured"
	ReasonConfiguring           = "Configuring"
	ReasonVMClassNotFound       = "VMClassNotFound"
	ReasonStoragePolicyNotFound = "StoragePolicyNotFound"
	ReasonStorageClassTaken     = "StorageClassTaken"
	ReasonInvalidAccess         = "InvalidAccess"
	ReasonNamespaceTaken        = "NamespaceTaken"
	ReasonDeleting              = "Deleting"
	ReasonNetworkNotFound       = "NetworkNotFound"
)

// problem is something in the spec that cannot be put in place until an
// admin changes the spec or vCenter: reported, never retried blindly.
type problem struct {
	reason string
	// id is the vCenter message id (vcenter.wcp.…).
	id string
	// field is the path in the VSphereNamespace; wireField the same field
	// in vCenter's namespaces API, which the admin wrote.
	field, wireField string
	message          string
	args             []string
}

func (p problem) vcenterMessage() vspherev1.Message {
	return vspherev1.Message{Severity: "ERROR", ID: p.id, DefaultMessage: p.wireField + ": " + p.message, Args: p.args}
}

// setStatus records the outcome of configuring the namespace: RUNNING with
// the Configured condition True when nothing is wrong, else ERROR with one
// message per problem (the condition's message joins them, naming each
// field).
func setStatus(vns *vspherev1.VSphereNamespace, problems []problem, summary string) {
	if len(problems) == 0 {
		vns.Status.ConfigStatus = vspherev1.ConfigStatusRunning
		vns.Status.Messages = nil
		setCondition(vns, metav1.ConditionTrue, ReasonConfigured, summary)
		return
	}
	vns.Status.ConfigStatus = vspherev1.ConfigStatusError
	vns.Status.Messages = make([]vspherev1.Message, 0, len(problems))
	parts := make([]string, 0, len(problems))
	for _, p := range problems {
		vns.Status.Messages = append(vns.Status.Messages, p.vcenterMessage())
		parts = append(parts, p.field+": "+p.message)
	}
	setCondition(vns, metav1.ConditionFalse, problems[0].reason, strings.Join(parts, "; "))
}

// setWaiting records that configuring waits for something that resolves on
// its own (a namespace of the same name still being deleted).
func setWaiting(vns *vspherev1.VSphereNamespace, msg string) {
	vns.Status.ConfigStatus = vspherev1.ConfigStatusConfiguring
	vns.Status.Messages = []vspherev1.Message{{Severity: "INFO", ID: "vcenter.wcp.namespace.configuring", DefaultMessage: msg}}
	setCondition(vns, metav1.ConditionFalse, ReasonConfiguring, msg)
}

// setRemoving records the deletion's progress.
func setRemoving(vns *vspherev1.VSphereNamespace, msg string) {
	vns.Status.ConfigStatus = vspherev1.ConfigStatusRemoving
	vns.Status.Messages = []vspherev1.Message{{Severity: "INFO", ID: "vcenter.wcp.namespace.removing", DefaultMessage: msg}}
	setCondition(vns, metav1.ConditionFalse, ReasonDeleting, msg)
}

func setCondition(vns *vspherev1.VSphereNamespace, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&vns.Status.Conditions, metav1.Condition{
		Type: vspherev1.NamespaceConfiguredCondition, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: vns.Generation,
	})
}
