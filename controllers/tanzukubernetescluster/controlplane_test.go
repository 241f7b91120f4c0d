package tanzukubernetescluster

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
)

func TestControlPlaneReplicas(t *testing.T) {
	kcp := func(replicas int32, initialized bool, healthy ...string) *controlplanev1.KubeadmControlPlane {
		k := &controlplanev1.KubeadmControlPlane{}
		k.Spec.Replicas = ptr.To(replicas)
		k.Status.Initialization.ControlPlaneInitialized = ptr.To(initialized)
		for _, c := range healthy {
			meta.SetStatusCondition(&k.Status.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionTrue, Reason: "Healthy"})
		}
		return k
	}
	components, etcd := controlplanev1.KubeadmControlPlaneControlPlaneComponentsHealthyCondition, controlplanev1.KubeadmControlPlaneEtcdClusterHealthyCondition
	for _, tc := range []struct {
		name string
		cur  *controlplanev1.KubeadmControlPlane
		want int32
		ask  int32
	}{
		{"a new cluster of 3 starts with one", nil, 3, 1},
		{"a new cluster of 1", nil, 1, 1},
		{"the first is not initialized yet", kcp(1, false), 3, 1},
		{"initialized, etcd not healthy yet", kcp(1, true, components), 3, 1},
		{"initialized, components not healthy yet", kcp(1, true, etcd), 3, 1},
		{"the first is up: the others join", kcp(1, true, components, etcd), 3, 3},
		{"grown, then unhealthy: never lowered", kcp(3, true), 3, 3},
		{"a user scales down", kcp(3, true, components, etcd), 1, 1},
		{"a user scales up from 3 to 5 while unhealthy", kcp(3, false), 5, 5},
	} {
		if got := controlPlaneReplicas(tc.cur, tc.want); got != tc.ask {
			t.Errorf("%s: asked for %d, want %d", tc.name, got, tc.ask)
		}
	}
}
