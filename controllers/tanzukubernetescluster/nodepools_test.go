package tanzukubernetescluster

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/test/wait"
)

const twoPools = `
apiVersion: run.tanzu.vmware.com/v1alpha2
kind: TanzuKubernetesCluster
metadata:
  name: tkc02
spec:
  topology:
    controlPlane:
      replicas: 1
      vmClass: guaranteed-small
      storageClass: k8s-storage
      tkr:
        reference:
          name: v1.18.19---vmware.1-tkg.1.17af790
    nodePools:
    - name: general
      replicas: 2
      vmClass: best-effort-medium
      storageClass: k8s-storage
    - name: gpu
      replicas: 1
      vmClass: guaranteed-large
      storageClass: k8s-storage
      labels:
        accelerator: gpu
      taints:
      - key: gpu
        value: "true"
        effect: NoSchedule
  settings:
    network:
      cni:
        name: calico
`

// TestNodePools applies a v1alpha2 cluster with two node pools and Calico,
// checks one MachineDeployment per pool with the pool's labels and taints
// in its kubeadm join configuration, removes a pool and deletes the cluster.
func TestNodePools(t *testing.T) {
	ctx := context.Background()
	ns := newVSphereNamespace(t)
	tkc := &runv1alpha2.TanzuKubernetesCluster{}
	if err := yaml.UnmarshalStrict([]byte(twoPools), tkc); err != nil {
		t.Fatal(err)
	}
	tkc.Namespace = ns
	if err := testClient.Create(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	hub := getHub(t, ns, "tkc02")

	general, gpu := &clusterv1.MachineDeployment{}, &clusterv1.MachineDeployment{}
	wait.For(t, 90*time.Second, "two MachineDeployments", func() (bool, error) {
		ok1, err := get(ns, "tkc02-general", general)
		if err != nil {
			return false, err
		}
		ok2, err := get(ns, "tkc02-gpu", gpu)
		return ok1 && ok2, err
	})
	if ptr.Deref(general.Spec.Replicas, 0) != 2 || ptr.Deref(gpu.Spec.Replicas, 0) != 1 {
		t.Errorf("replicas general %v, gpu %v", general.Spec.Replicas, gpu.Spec.Replicas)
	}
	assertMachineTemplate(t, hub, gpu.Spec.Template.Spec.InfrastructureRef, seededImage(release118))
	config := &bootstrapv1.KubeadmConfigTemplate{}
	if _, err := get(ns, gpu.Spec.Template.Spec.Bootstrap.ConfigRef.Name, config); err != nil {
		t.Fatal(err)
	}
	reg := config.Spec.Template.Spec.JoinConfiguration.NodeRegistration
	labels := ""
	for _, a := range reg.KubeletExtraArgs {
		if a.Name == "node-labels" {
			labels = ptr.Deref(a.Value, "")
		}
	}
	if labels != "accelerator=gpu" || reg.Taints == nil || len(*reg.Taints) != 1 || (*reg.Taints)[0].Key != "gpu" {
		t.Errorf("gpu pool node registration: labels %q, taints %v", labels, reg.Taints)
	}
	cm := &corev1.ConfigMap{}
	wait.For(t, 90*time.Second, "the Calico manifest", func() (bool, error) { return get(ns, "tkc02-calico", cm) })
	if m := cm.Data["calico.yaml"]; !strings.Contains(m, "value: 192.168.0.0/16") {
		t.Errorf("the Calico manifest lacks the default pod range")
	}

	// Remove the gpu pool.
	cur := &runv1alpha2.TanzuKubernetesCluster{}
	if _, err := get(ns, "tkc02", cur); err != nil {
		t.Fatal(err)
	}
	base := cur.DeepCopy()
	cur.Spec.Topology.NodePools = cur.Spec.Topology.NodePools[:1]
	if err := testClient.Patch(ctx, cur, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 90*time.Second, "the gpu pool's MachineDeployment to be gone", func() (bool, error) {
		ok, err := get(ns, "tkc02-gpu", &clusterv1.MachineDeployment{})
		return !ok && err == nil, err
	})
	wait.For(t, 90*time.Second, "one worker pool in the status", func() (bool, error) {
		hub = getHub(t, ns, "tkc02")
		return hub.Status.TotalWorkerReplicas == 2 && condition(hub, runv1alpha3.NodePoolsReadyCondition) != nil, nil
	})

	deleteAndWait(t, ns, "tkc02")
}
