package guestsim

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/blang/semver/v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	kubeadmtypes "sigs.k8s.io/cluster-api/bootstrap/kubeadm/pkg/types"
	"sigs.k8s.io/cluster-api/bootstrap/kubeadm/pkg/types/upstream"
	containerutil "sigs.k8s.io/cluster-api/util/container"
)

const (
	controlPlaneRoleLabel = "node-role.kubernetes.io/control-plane"
	// masterRoleLabel is the role label kubeadm set before v1.24 (and with
	// the control-plane one from v1.20); vSphere shows such nodes as
	// "master".
	masterRoleLabel = "node-role.kubernetes.io/master"
	// staticPodTier labels kubeadm's static Pods.
	staticPodTier = "control-plane"
	etcdImage     = "registry.k8s.io/etcd:3.5.21-0"
)

// Static Pods kubeadm runs on every control-plane node, named <component>-<node>.
const (
	componentEtcd              = "etcd"
	componentAPIServer         = "kube-apiserver"
	componentScheduler         = "kube-scheduler"
	componentControllerManager = "kube-controller-manager"
)

var staticPodComponents = []string{componentEtcd, componentAPIServer, componentScheduler, componentControllerManager}

func staticPodName(component, node string) string { return component + "-" + node }

// controlPlaneMarks are the labels and taints kubeadm's mark-control-plane
// phase puts on a control-plane Node of Kubernetes minor version minor:
// the master role alone before v1.20, both until v1.24, then only the
// control-plane one. The control-plane label is there for every version,
// since Cluster API finds control-plane Nodes by it.
func controlPlaneMarks(minor uint64) (map[string]string, []corev1.Taint) {
	labels := map[string]string{controlPlaneRoleLabel: ""}
	taints := []corev1.Taint{{Key: controlPlaneRoleLabel, Effect: corev1.TaintEffectNoSchedule}}
	if minor < 24 {
		labels[masterRoleLabel] = ""
	}
	if minor < 25 {
		taints = append(taints, corev1.Taint{Key: masterRoleLabel, Effect: corev1.TaintEffectNoSchedule})
	}
	return labels, taints
}

// newMirrorPod is the mirror Pod a kubelet creates for a static Pod it runs
// from a manifest file: owned by its Node, bound to it, annotated as a
// mirror (drains skip such Pods).
func newMirrorPod(component string, node *corev1.Node, ip, version string) *corev1.Pod {
	name := staticPodName(component, node.Name)
	image := etcdImage
	if component != componentEtcd {
		image = "registry.k8s.io/" + component + ":" + containerutil.SemverToOCIImageTag(version)
	}
	hash := mirrorHash(name + image)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: metav1.NamespaceSystem,
			Name:      name,
			Labels:    map[string]string{"component": component, "tier": staticPodTier},
			Annotations: map[string]string{
				corev1.MirrorPodAnnotationKey: hash,
				"kubernetes.io/config.hash":   hash,
				"kubernetes.io/config.source": "file",
				"kubernetes.io/config.seen":   time.Now().UTC().Format(time.RFC3339Nano),
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{
			NodeName:          node.Name,
			HostNetwork:       true,
			PriorityClassName: "system-node-critical",
			Containers:        []corev1.Container{{Name: component, Image: image, Command: []string{component}}},
			Tolerations:       []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
		},
	}
}

// runningStatus is a static Pod's status once its container runs.
func runningStatus(pod *corev1.Pod, ip string) corev1.PodStatus {
	now := metav1.Now()
	cond := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now}
	}
	c := pod.Spec.Containers[0]
	return corev1.PodStatus{
		Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodInitialized), cond(corev1.PodReady), cond(corev1.ContainersReady), cond(corev1.PodScheduled),
		},
		HostIP: ip, HostIPs: []corev1.HostIP{{IP: ip}}, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		StartTime: &now,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptr.To(true),
			ContainerID: "containerd://" + mirrorHash(pod.Name+now.String()) + mirrorHash(pod.Name),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}},
	}
}

// mirrorHash stands for the hash of the manifest the kubelet puts in a
// mirror Pod's annotation.
func mirrorHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// clusterConfiguration is the ClusterConfiguration kubeadm init uploads to
// kube-system/kubeadm-config, from the first control plane's KubeadmConfig
// and the Cluster's data, in the kubeadm API version of version.
func clusterConfiguration(cfg *bootstrapv1.ClusterConfiguration, version semver.Version, data *upstream.AdditionalData) (string, error) {
	return kubeadmtypes.MarshalClusterConfigurationForVersion(cfg, version, data)
}

// kubeadmObjects are what kubeadm init leaves in a cluster besides its
// static Pods, and KubeadmControlPlane reads or updates: the
// kubeadm-config ConfigMap (its presence marks the control plane
// initialized), the kubeadm:get-nodes RBAC, cluster-info in kube-public,
// kube-proxy and CoreDNS.
func kubeadmObjects(version, clusterConfig, kubeconfigForClusterInfo string) []client.Object {
	labels := func(k, v string) map[string]string { return map[string]string{k: v} }
	dnsLabels := labels("k8s-app", "kube-dns")
	proxyLabels := labels("k8s-app", "kube-proxy")
	return []client.Object{
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kubeadm-config"},
			Data:       map[string]string{"ClusterConfiguration": clusterConfig},
		},
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespacePublic, Name: "cluster-info"},
			Data:       map[string]string{"kubeconfig": kubeconfigForClusterInfo},
		},
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
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kube-proxy", Labels: proxyLabels},
			Data:       map[string]string{"config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n"},
		},
		&appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kube-proxy", Labels: proxyLabels},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: proxyLabels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: proxyLabels},
					Spec: corev1.PodSpec{HostNetwork: true, PriorityClassName: "system-node-critical", Containers: []corev1.Container{{
						Name: "kube-proxy", Image: "registry.k8s.io/kube-proxy:" + containerutil.SemverToOCIImageTag(version),
						Command: []string{"/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"},
					}}},
				},
			},
		},
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "coredns"},
			Data: map[string]string{"Corefile": strings.Join([]string{
				".:53 {", "    errors", "    health {", "       lameduck 5s", "    }", "    ready",
				"    kubernetes cluster.local in-addr.arpa ip6.arpa {", "       pods insecure", "       fallthrough in-addr.arpa ip6.arpa",
				"       ttl 30", "    }", "    prometheus :9153", "    forward . /etc/resolv.conf {", "       max_concurrent 1000", "    }",
				"    cache 30", "    loop", "    reload", "    loadbalance", "}", ""}, "\n")},
		},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "coredns", Labels: dnsLabels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(int32(2)),
				Selector: &metav1.LabelSelector{MatchLabels: dnsLabels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: dnsLabels},
					Spec: corev1.PodSpec{PriorityClassName: "system-cluster-critical", Containers: []corev1.Container{{
						Name: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.10.1", Args: []string{"-conf", "/etc/coredns/Corefile"},
					}}},
				},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: "kube-dns", Labels: dnsLabels},
			Spec: corev1.ServiceSpec{Selector: dnsLabels, Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP},
			}},
		},
	}
}
