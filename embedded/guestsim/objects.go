package guestsim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inmemoryruntime "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/runtime"
	containerutil "sigs.k8s.io/cluster-api/util/container"
)

// The guest objects below are those Cluster API's in-memory provider fakes
// (test/infrastructure/docker/internal/controllers/backends/inmemory), which
// is what KubeadmControlPlane and the Machine controller read.

const (
	controlPlaneRoleLabel = "node-role.kubernetes.io/control-plane"
	// staticPodTier labels kubeadm's static Pods.
	staticPodTier = "control-plane"
)

// Static Pods kubeadm runs on every control-plane node, named <component>-<node>.
const (
	componentEtcd              = "etcd"
	componentAPIServer         = "kube-apiserver"
	componentScheduler         = "kube-scheduler"
	componentControllerManager = "kube-controller-manager"
)

var staticPodComponents = []string{componentEtcd, componentAPIServer, componentScheduler, componentControllerManager}

// newNode is the Node kubelet registers: Ready, the Machine's version, the
// VM's address; on a control plane kubeadm's role label and taint.
func newNode(name, providerID, version, ip string, controlPlane bool) *corev1.Node {
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now, LastHeartbeatTime: now}
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Spec:       corev1.NodeSpec{ProviderID: providerID},
		Status: corev1.NodeStatus{
			NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: version},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}},
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
			},
		},
	}
	if controlPlane {
		node.Labels[controlPlaneRoleLabel] = ""
		node.Spec.Taints = []corev1.Taint{{Key: controlPlaneRoleLabel, Effect: corev1.TaintEffectNoSchedule}}
	}
	return node
}

// newStaticPod is kubeadm's static Pod of component on node, Running and
// Ready, as the API server shows it: a mirror Pod the kubelet made from a
// manifest file, which drains skip (Cluster API's drain evaluates its rules
// for any other Pod, and would wait on them).
func newStaticPod(component, node string) *corev1.Pod {
	name := staticPodName(component, node)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: metav1.NamespaceSystem,
			Name:      name,
			Labels:    map[string]string{"component": component, "tier": staticPodTier},
			Annotations: map[string]string{
				corev1.MirrorPodAnnotationKey: mirrorHash(name),
				"kubernetes.io/config.source": "file",
			},
		},
		Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
}

func staticPodName(component, node string) string { return component + "-" + node }

// mirrorHash stands for the hash of the manifest the kubelet puts in a
// mirror Pod's annotation.
func mirrorHash(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:16])
}

// clusterObjects are what kubeadm init leaves in a cluster and
// KubeadmControlPlane reads or updates: the kubeadm:get-nodes RBAC, the
// kubeadm-config ConfigMap (its presence marks the control plane
// initialized), kube-proxy and CoreDNS.
func clusterObjects(version string) []client.Object {
	return []client.Object{
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:get-nodes"},
			Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:get-nodes"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubeadm:get-nodes"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:bootstrappers:kubeadm:default-node-token"}},
		},
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kubeadm-config"},
			Data:       map[string]string{"ClusterConfiguration": ""},
		},
		&appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kube-proxy", Labels: map[string]string{"component": "kube-proxy"}},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "kube-proxy", Image: "registry.k8s.io/kube-proxy:" + containerutil.SemverToOCIImageTag(version),
			}}}}},
		},
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "coredns"},
			Data:       map[string]string{"Corefile": "ANG"},
		},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "coredns"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.10.1",
			}}}}},
		},
	}
}

// createIfMissing creates obj in the guest unless an object of its name
// exists: what kubeadm left is never overwritten (KubeadmControlPlane
// updates some of it).
func createIfMissing(ctx context.Context, gc inmemoryruntime.Client, obj client.Object) error {
	if err := gc.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// deleteIfPresent deletes obj from the guest.
func deleteIfPresent(ctx context.Context, gc inmemoryruntime.Client, obj client.Object) error {
	if err := gc.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to delete %T %s: %w", obj, client.ObjectKeyFromObject(obj), err)
	}
	return nil
}
