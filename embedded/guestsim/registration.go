package guestsim

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// nodeRegistration is what kubeadm hands a node's kubelet from its
// KubeadmConfig: the labels of --node-labels and the taints of
// --register-with-taints. A machine's config holds either an init
// configuration (KubeadmControlPlane's first machine) or a join one.
func nodeRegistration(kc *bootstrapv1.KubeadmConfig) (map[string]string, []corev1.Taint) {
	labels := map[string]string{}
	var taints []corev1.Taint
	for _, reg := range []bootstrapv1.NodeRegistrationOptions{kc.Spec.InitConfiguration.NodeRegistration, kc.Spec.JoinConfiguration.NodeRegistration} {
		for _, arg := range reg.KubeletExtraArgs {
			if arg.Name != "node-labels" || arg.Value == nil {
				continue
			}
			for pair := range strings.SplitSeq(*arg.Value, ",") {
				if k, v, ok := strings.Cut(pair, "="); ok && k != "" {
					labels[k] = v
				}
			}
		}
		if reg.Taints != nil {
			for _, t := range *reg.Taints {
				if !hasTaint(taints, t) {
					taints = append(taints, t)
				}
			}
		}
	}
	return labels, taints
}

// nodeLifecycleTaints are the taints the node lifecycle controller puts on
// a Node whose kubelet is not ready or not posting status.
var nodeLifecycleTaints = []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable}

// markReady does what the node lifecycle controller does once a kubelet
// posts Ready: it lifts the not-ready taint the API server put on the new
// Node, and the unreachable ones of a node that was off.
func markReady(ctx context.Context, cp *controlPlane, name string) error {
	admin, err := kubernetes.NewForConfig(cp.admin)
	if err != nil {
		return err
	}
	node, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	kept := slices.DeleteFunc(slices.Clone(node.Spec.Taints), func(t corev1.Taint) bool {
		return slices.Contains(nodeLifecycleTaints, t.Key)
	})
	if len(kept) == len(node.Spec.Taints) {
		return nil
	}
	node.Spec.Taints = kept
	_, err = admin.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	return err
}

// initializeNode does what the guest cluster's cloud provider (vSphere's
// paravirtual one) does for a kubelet started with --cloud-provider=external:
// it gives the Node its providerID. Cluster API finds a Machine's Node by
// that ID, so a control plane's Node is found only once its static Pods
// run, as on vSphere, where the cloud provider itself runs on them; then
// KubeadmControlPlane's first look at it passes instead of failing and
// waiting out its retry.
func initializeNode(ctx context.Context, cp *controlPlane, name, providerID string) error {
	admin, err := kubernetes.NewForConfig(cp.admin)
	if err != nil {
		return err
	}
	node, err := admin.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if node.Spec.ProviderID == providerID {
		return nil
	}
	node.Spec.ProviderID = providerID
	_, err = admin.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	return err
}
