package tanzukubernetescluster

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	addonsv1 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/test/wait"
)

const (
	release118 = "v1.18.19---vmware.1-tkg.1.17af790"
	release119 = "v1.19.16---vmware.1-tkg.1.df910e2"
)

// TestSeedCluster applies the seed manifest unchanged (v1alpha1), checks
// the Cluster API objects and the status, then scales the workers,
// upgrades to v1.19 and deletes the cluster.
func TestSeedCluster(t *testing.T) {
	ctx := context.Background()
	ns := newVSphereNamespace(t)
	data, err := os.ReadFile("../../templates/samples/tkc-v1alpha1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tkc := &runv1alpha1.TanzuKubernetesCluster{}
	if err := yaml.UnmarshalStrict(data, tkc); err != nil {
		t.Fatal(err)
	}
	tkc.Namespace = ns
	if err := testClient.Create(ctx, tkc); err != nil {
		t.Fatalf("the seed manifest must be accepted: %v", err)
	}
	hub := getHub(t, ns, "tkc01")

	cluster := &clusterv1.Cluster{}
	wait.For(t, 90*time.Second, "the Cluster", func() (bool, error) { return get(ns, "tkc01", cluster) })
	assertOwned(t, hub, cluster)
	if n := cluster.Spec.ClusterNetwork; strings.Join(n.Pods.CIDRBlocks, ",") != "193.0.0.0/16" ||
		strings.Join(n.Services.CIDRBlocks, ",") != "195.48.0.0/12" || n.ServiceDomain != "cluster.local" {
		t.Errorf("clusterNetwork = %+v; want the seed's ranges without host bits", n)
	}
	if ref := cluster.Spec.InfrastructureRef; ref.Kind != "VSphereCluster" || ref.Name != "tkc01" {
		t.Errorf("infrastructureRef = %+v", ref)
	}
	vsphereCluster := &vmwarev1.VSphereCluster{}
	wait.For(t, 90*time.Second, "the VSphereCluster", func() (bool, error) { return get(ns, "tkc01", vsphereCluster) })
	assertOwned(t, hub, vsphereCluster)

	kcp := &controlplanev1.KubeadmControlPlane{}
	wait.For(t, 90*time.Second, "the KubeadmControlPlane", func() (bool, error) { return get(ns, "tkc01-control-plane", kcp) })
	assertOwned(t, hub, kcp)
	// Cluster API v1.14 writes kubeadm configuration for v1.22 and later
	// only: older releases are given to it as v1.22.0, and their nodes'
	// version rides in an annotation.
	// One control-plane machine is asked for until the first is up (no
	// Cluster API controller runs here: its status is written below).
	if ptr.Deref(kcp.Spec.Replicas, 0) != 1 || kcp.Spec.Version != "v1.22.0" ||
		kcp.Annotations[ReleaseVersionAnnotation] != "v1.18.19+vmware.1-tkg.1.17af790" ||
		kcp.Spec.MachineTemplate.ObjectMeta.Annotations[NodeVersionAnnotation] != "v1.18.19" {
		t.Errorf("KubeadmControlPlane replicas %v, version %q, annotations %v", kcp.Spec.Replicas, kcp.Spec.Version, kcp.Annotations)
	}
	assertMachineTemplate(t, hub, kcp.Spec.MachineTemplate.Spec.InfrastructureRef, seededImage(release118))
	firstControlPlaneIsUp(t, kcp)
	wait.For(t, 90*time.Second, "the KubeadmControlPlane to ask for the seed's 3 machines once the first is up", func() (bool, error) {
		if _, err := get(ns, "tkc01-control-plane", kcp); err != nil {
			return false, err
		}
		return ptr.Deref(kcp.Spec.Replicas, 0) == 3, fmt.Errorf("replicas %d", ptr.Deref(kcp.Spec.Replicas, 0))
	})

	md := &clusterv1.MachineDeployment{}
	wait.For(t, 90*time.Second, "the workers' MachineDeployment", func() (bool, error) { return get(ns, "tkc01-workers", md) })
	assertOwned(t, hub, md)
	if ptr.Deref(md.Spec.Replicas, 0) != 3 || md.Spec.Template.Spec.Version != "v1.22.0" || md.Spec.ClusterName != "tkc01" ||
		md.Spec.Template.ObjectMeta.Annotations[NodeVersionAnnotation] != "v1.18.19" {
		t.Errorf("MachineDeployment replicas %v, version %q", md.Spec.Replicas, md.Spec.Template.Spec.Version)
	}
	assertMachineTemplate(t, hub, md.Spec.Template.Spec.InfrastructureRef, seededImage(release118))
	config := &bootstrapv1.KubeadmConfigTemplate{}
	if _, err := get(ns, md.Spec.Template.Spec.Bootstrap.ConfigRef.Name, config); err != nil {
		t.Fatalf("the workers' KubeadmConfigTemplate: %v", err)
	}
	assertOwned(t, hub, config)

	crs := &addonsv1.ClusterResourceSet{}
	wait.For(t, 90*time.Second, "the CNI's ClusterResourceSet", func() (bool, error) { return get(ns, "tkc01-antrea", crs) })
	assertOwned(t, hub, crs)
	if crs.Spec.ClusterSelector.MatchLabels[ClusterLabel] != "tkc01" || cluster.Labels[ClusterLabel] != "tkc01" {
		t.Errorf("the ClusterResourceSet selects %v, the Cluster is labelled %v", crs.Spec.ClusterSelector, cluster.Labels)
	}
	cm := &corev1.ConfigMap{}
	if _, err := get(ns, crs.Spec.Resources[0].Name, cm); err != nil {
		t.Fatal(err)
	}
	assertOwned(t, hub, cm)
	if m := cm.Data["antrea.yaml"]; !strings.Contains(m, "kind: DaemonSet") || !strings.Contains(m, "- 193.0.0.0/16") {
		t.Errorf("the Antrea manifest lacks the agent or the pod range:\n%s", m)
	}

	// Without an infrastructure provider the cluster waits for its VIP.
	wait.For(t, 90*time.Second, "phase creating, waiting for the infrastructure", func() (bool, error) {
		hub = getHub(t, ns, "tkc01")
		c := condition(hub, runv1alpha3.ControlPlaneReadyCondition)
		return hub.Status.Phase == runv1alpha3.PhaseCreating && c != nil &&
			c.Reason == runv1alpha3.WaitingForClusterInfrastructureReason, nil
	})
	for _, typ := range []string{runv1alpha3.ReadyCondition, runv1alpha3.NodePoolsReadyCondition, runv1alpha3.AddonsReadyCondition} {
		if c := condition(hub, typ); c == nil || c.Status != corev1.ConditionFalse || c.Message == "" {
			t.Errorf("condition %s = %+v; want False with a message", typ, c)
		}
	}
	if hub.Status.TotalWorkerReplicas != 3 || len(hub.Status.Addons) != 1 || hub.Status.Addons[0].Name != "antrea" {
		t.Errorf("status = %+v", hub.Status)
	}
	v1 := &runv1alpha1.TanzuKubernetesCluster{}
	if _, err := get(ns, "tkc01", v1); err != nil {
		t.Fatal(err)
	}
	if v1.Status.Phase != runv1alpha1.PhaseCreating || v1.Status.Addons == nil || v1.Status.Addons.CNI == nil ||
		v1.Status.Addons.CNI.Status != runv1alpha1.AddonStatePending {
		t.Errorf("v1alpha1 status = %+v", v1.Status)
	}
	var events eventsv1.EventList
	if err := testClient.List(ctx, &events, client.InNamespace(ns)); err != nil || len(events.Items) == 0 {
		t.Errorf("no events recorded (%v)", err)
	}

	// Scale the workers through v1alpha1.
	patchV1alpha1(t, ns, "tkc01", func(c *runv1alpha1.TanzuKubernetesCluster) { c.Spec.Topology.Workers.Count = 5 })
	wait.For(t, 90*time.Second, "5 workers", func() (bool, error) {
		ok, err := get(ns, "tkc01-workers", md)
		return ok && ptr.Deref(md.Spec.Replicas, 0) == 5, err
	})

	// Upgrade: a new hint without fullVersion re-resolves to v1.19.
	oldTemplate := kcp.Spec.MachineTemplate.Spec.InfrastructureRef.Name
	patchV1alpha1(t, ns, "tkc01", func(c *runv1alpha1.TanzuKubernetesCluster) {
		c.Spec.Distribution = runv1alpha1.Distribution{VersionHint: "v1.19"}
	})
	wait.For(t, 90*time.Second, "the control plane on v1.19", func() (bool, error) {
		ok, err := get(ns, "tkc01-control-plane", kcp)
		return ok && kcp.Spec.MachineTemplate.ObjectMeta.Annotations[NodeVersionAnnotation] == "v1.19.16", err
	})
	if kcp.Spec.MachineTemplate.Spec.InfrastructureRef.Name == oldTemplate {
		t.Error("an upgrade must give the control plane a new machine template")
	}
	assertMachineTemplate(t, hub, kcp.Spec.MachineTemplate.Spec.InfrastructureRef, seededImage(release119))
	wait.For(t, 90*time.Second, "the workers on v1.19", func() (bool, error) {
		ok, err := get(ns, "tkc01-workers", md)
		return ok && md.Spec.Template.ObjectMeta.Annotations[NodeVersionAnnotation] == "v1.19.16", err
	})
	assertMachineTemplate(t, hub, md.Spec.Template.Spec.InfrastructureRef, seededImage(release119))

	deleteAndWait(t, ns, "tkc01")
}

// getHub reads a cluster as the hub version.
func getHub(t *testing.T, ns, name string) *runv1alpha3.TanzuKubernetesCluster {
	t.Helper()
	c := &runv1alpha3.TanzuKubernetesCluster{}
	if err := testClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// get reads an object, reporting whether it exists.
func get(ns, name string, obj client.Object) (bool, error) {
	err := testClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

func condition(c *runv1alpha3.TanzuKubernetesCluster, typ string) *runv1alpha3.Condition {
	for i := range c.Status.Conditions {
		if c.Status.Conditions[i].Type == typ {
			return &c.Status.Conditions[i]
		}
	}
	return nil
}

// assertOwned checks that the cluster controls obj, so that a garbage
// collector, where there is one, would delete it too.
func assertOwned(t *testing.T, tkc *runv1alpha3.TanzuKubernetesCluster, obj client.Object) {
	t.Helper()
	if !metav1.IsControlledBy(obj, tkc) {
		t.Errorf("%T %s is not controlled by the TanzuKubernetesCluster: %v", obj, obj.GetName(), obj.GetOwnerReferences())
	}
}

func assertMachineTemplate(t *testing.T, tkc *runv1alpha3.TanzuKubernetesCluster, ref clusterv1.ContractVersionedObjectReference, image string) {
	t.Helper()
	tmpl := &vmwarev1.VSphereMachineTemplate{}
	if ok, err := get(tkc.Namespace, ref.Name, tmpl); !ok {
		t.Fatalf("VSphereMachineTemplate %s: %v", ref.Name, err)
	}
	assertOwned(t, tkc, tmpl)
	if s := tmpl.Spec.Template.Spec; s.ImageName != image || s.ClassName == "" || s.StorageClass != "k8s-storage" {
		t.Errorf("VSphereMachineTemplate %s = %+v; want image %s", ref.Name, s, image)
	}
}

func patchV1alpha1(t *testing.T, ns, name string, change func(*runv1alpha1.TanzuKubernetesCluster)) {
	t.Helper()
	c := &runv1alpha1.TanzuKubernetesCluster{}
	if _, err := get(ns, name, c); err != nil {
		t.Fatal(err)
	}
	base := c.DeepCopy()
	change(c)
	if err := testClient.Patch(context.Background(), c, client.MergeFrom(base)); err != nil {
		t.Fatalf("failed to patch %s: %v", name, err)
	}
}

// deleteAndWait deletes a cluster, checks that it says so while Cluster
// API deletes the machines, and waits until it and every object it made
// are gone: the Cluster and what hangs off it through Cluster API, the rest
// through the garbage collector.
func deleteAndWait(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	if err := testClient.Delete(ctx, getHub(t, ns, name)); err != nil {
		t.Fatal(err)
	}
	waitAllGone(t, ns, name)
}

// waitAllGone waits until a deleted cluster and every object it made are
// gone.
func waitAllGone(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	wait.For(t, 90*time.Second, "the TanzuKubernetesCluster to be gone", func() (bool, error) {
		c := &runv1alpha3.TanzuKubernetesCluster{}
		ok, err := get(ns, name, c)
		if ok && c.Status.Phase != runv1alpha3.PhaseDeleting && c.Status.Phase != "" {
			t.Logf("phase %q while deleting", c.Status.Phase)
		}
		return !ok && err == nil, err
	})
	wait.For(t, 90*time.Second, "every object of the cluster to be gone", func() (bool, error) {
		for _, list := range []client.ObjectList{
			&clusterv1.ClusterList{}, &clusterv1.MachineDeploymentList{}, &clusterv1.MachineSetList{}, &clusterv1.MachineList{},
			&controlplanev1.KubeadmControlPlaneList{}, &vmwarev1.VSphereClusterList{}, &addonsv1.ClusterResourceSetList{},
			&corev1.ConfigMapList{}, &vmwarev1.VSphereMachineTemplateList{}, &bootstrapv1.KubeadmConfigTemplateList{},
		} {
			if err := testClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{clusterv1.ClusterNameLabel: name}); err != nil {
				return false, err
			}
			if n := meta.LenList(list); n > 0 {
				return false, fmt.Errorf("%d %T left", n, list)
			}
		}
		return true, nil
	})
}

// firstControlPlaneIsUp writes what KubeadmControlPlane reports once its
// first machine is initialized and healthy.
func firstControlPlaneIsUp(t *testing.T, kcp *controlplanev1.KubeadmControlPlane) {
	t.Helper()
	before := kcp.DeepCopy()
	kcp.Status.Initialization.ControlPlaneInitialized = ptr.To(true)
	now := metav1.Now()
	for _, c := range []string{controlplanev1.KubeadmControlPlaneControlPlaneComponentsHealthyCondition, controlplanev1.KubeadmControlPlaneEtcdClusterHealthyCondition} {
		meta.SetStatusCondition(&kcp.Status.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionTrue, Reason: "Healthy", LastTransitionTime: now})
	}
	if err := testClient.Status().Patch(context.Background(), kcp, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
}
