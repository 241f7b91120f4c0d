package tanzukubernetescluster

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// A Machine of a release older than Cluster API supports runs the
// release's kubelet while Cluster API asked for v1.22.0: Cluster API calls
// it not up to date for that alone, and the TKC counts it up to date. A
// Machine behind on its spec, or with another kubelet, is not.
func TestUpToDateMachines(t *testing.T) {
	machine := func(pool string, status metav1.ConditionStatus, message, kubelet string) clusterv1.Machine {
		m := clusterv1.Machine{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{clusterv1.MachineDeploymentNameLabel: pool}}}
		m.Status.Conditions = []metav1.Condition{{Type: clusterv1.MachineUpToDateCondition, Status: status, Message: message}}
		m.Status.NodeInfo = &corev1.NodeSystemInfo{KubeletVersion: kubelet}
		return m
	}
	machines := []clusterv1.Machine{
		machine("workers", metav1.ConditionTrue, "", "v1.22.0"),
		machine("workers", metav1.ConditionFalse, "* Node.status.nodeInfo.kubeletVersion v1.18.20+vmware.1, v1.22.0 required", "v1.18.20+vmware.1"),
		machine("workers", metav1.ConditionFalse, "* Node.status.nodeInfo.kubeletVersion v1.17.0, v1.22.0 required", "v1.17.0"),
		machine("workers", metav1.ConditionFalse, "* InfrastructureMachine is not up-to-date", "v1.18.20+vmware.1"),
		machine("other", metav1.ConditionTrue, "", "v1.22.0"),
	}
	inPool := func(m *clusterv1.Machine) bool { return m.Labels[clusterv1.MachineDeploymentNameLabel] == "workers" }
	if got := upToDateMachines(machines, "v1.18.20+vmware.1-tkg.1", inPool); got != 2 {
		t.Errorf("up to date: %d, want 2 (the one Cluster API counts and the one running the release's kubelet)", got)
	}
}
