package guestsim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
)

// A node pool's labels and taints reach the kubelet as kubeadm passes
// them: --node-labels and --register-with-taints of the join
// configuration; the Node registers with them.
func TestNodeRegistrationFromKubeadmConfig(t *testing.T) {
	taint := corev1.Taint{Key: "nvidia.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	kc := &bootstrapv1.KubeadmConfig{Spec: bootstrapv1.KubeadmConfigSpec{JoinConfiguration: bootstrapv1.JoinConfiguration{
		NodeRegistration: bootstrapv1.NodeRegistrationOptions{
			KubeletExtraArgs: []bootstrapv1.Arg{
				{Name: "cloud-provider", Value: ptr.To("external")},
				{Name: "node-labels", Value: ptr.To("tier=gpu,run.tanzu.vmware.com/pool=a2")},
			},
			Taints: &[]corev1.Taint{taint},
		},
	}}}
	labels, taints := nodeRegistration(kc)
	if len(labels) != 2 || labels["tier"] != "gpu" || labels["run.tanzu.vmware.com/pool"] != "a2" {
		t.Errorf("labels = %v, want the two of --node-labels", labels)
	}
	if len(taints) != 1 || taints[0] != taint {
		t.Errorf("taints = %v, want %v", taints, taint)
	}
	node := newNode(nodeSpec{name: "n1", labels: labels, taints: taints})
	if node.Labels["tier"] != "gpu" || node.Labels[corev1.LabelHostname] != "n1" || len(node.Spec.Taints) != 1 {
		t.Errorf("Node labels %v, taints %v: want the pool's beside the kubelet's own", node.Labels, node.Spec.Taints)
	}
	if l, tt := nodeRegistration(&bootstrapv1.KubeadmConfig{}); len(l) != 0 || len(tt) != 0 {
		t.Errorf("an empty config gives labels %v, taints %v", l, tt)
	}
}
