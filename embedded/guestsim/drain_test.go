package guestsim

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/core/reconcilers/machine/drain"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
)

// Cluster API's drain skips a simulated node's control-plane Pods as it
// skips a kubelet's mirror Pods, even before the guest's Namespaces are in
// its cache: the drain of a deleted control-plane Machine cannot wait on
// them (it did, holding a rolling upgrade for minutes).
func TestDrainSkipsStaticPods(t *testing.T) {
	const node = "cp-0"
	var objs []client.Object
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, UID: "node-uid"}}
	for _, component := range staticPodComponents {
		objs = append(objs, newMirrorPod(component, n, "127.21.0.5", "v1.30.0"))
	}
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme)
	guest := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithIndex(&corev1.Pod{}, "spec.nodeName", func(o client.Object) []string {
		return []string{o.(*corev1.Pod).Spec.NodeName}
	}).Build()
	d := &drain.Helper{Client: fake.NewClientBuilder().WithScheme(api.NewScheme()).Build(), RemoteClient: guest}
	pods, err := d.GetPodsForEviction(context.Background(), &clusterv1.Cluster{}, &clusterv1.Machine{}, node)
	if err != nil {
		t.Fatalf("the drain refuses the node's Pods: %v", err)
	}
	if evict := pods.Pods(); len(evict) != 0 {
		t.Errorf("the drain would evict %d static Pods", len(evict))
	}
	if skipped := pods.SkippedPods(); len(skipped) != len(objs) {
		t.Errorf("the drain skipped %d of %d static Pods", len(skipped), len(objs))
	}
}

// A node's kubelet is the one in its image: the release's Kubernetes
// version with VMware's build, whatever version Cluster API was told.
func TestKubeletVersionFromNodeImage(t *testing.T) {
	m := &clusterv1.Machine{Spec: clusterv1.MachineSpec{Version: "v1.22.0"}}
	for image, want := range map[string]string{
		"photon-3-k8s-v1.18.20---vmware.1-tkg.1":    "v1.18.20+vmware.1",
		"ubuntu-2204-k8s-v1.30.14---vmware.1-tkg.2": "v1.30.14+vmware.1",
		"ubuntu-2204-v1.35.0":                       "v1.22.0",
	} {
		if got := kubeletVersion(image, m); got != want {
			t.Errorf("kubeletVersion(%q) = %q, want %q", image, got, want)
		}
	}
}
