package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/tkrname"
	"github.com/open-supervisor/supervisor/templates"
	"github.com/open-supervisor/supervisor/test/wait"
)

// nodeVersionAnnotation is the annotation every Machine carries with the
// Kubernetes version of its release. (The full release version,
// run.tanzu.vmware.com/tkr-version, is not put on Machines: the simulated
// kubelets would report it, and Cluster API v1.14 then never counts the
// Machines up to date.)
const nodeVersionAnnotation = "run.tanzu.vmware.com/kubernetes-version"

// Every shipped release is published and Ready with its node image; a
// v1alpha3 cluster on the second-newest release comes up, is upgraded one
// minor to the newest, and every Machine ends on the newest release,
// carrying the release's Kubernetes version; the cluster reports the
// release's full version.
func TestNewestReleaseUpgrade(t *testing.T) {
	ctx := context.Background()
	c := supervisor.client
	checkReleasesPublished(t)

	newest, previous := templates.Releases[len(templates.Releases)-1], templates.Releases[len(templates.Releases)-2]
	ref := func(r templates.Release) runv1alpha3.TKRReference {
		return runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: r.ObjectName()}}
	}
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "tkc-newest"},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "best-effort-xsmall",
				StorageClass: "k8s-storage", TKR: ref(previous)},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "best-effort-xsmall", StorageClass: "k8s-storage", TKR: ref(previous)}}},
		}},
	}
	if err := c.Create(ctx, tkc); err != nil {
		t.Fatalf("creating a cluster on %s: %v", previous.ObjectName(), err)
	}
	key := client.ObjectKeyFromObject(tkc)
	t.Cleanup(func() { deleteCluster(t, key) })
	t.Cleanup(func() {
		if t.Failed() {
			logMachines(t, key.Name)
		}
	})

	start := time.Now()
	waitRunning(t, key, 2)
	t.Logf("running on %s after %s", previous.Version, time.Since(start).Round(100*time.Millisecond))
	waitMachinesOn(t, key.Name, previous, time.Minute)
	checkStatusVersion(t, key, previous)

	update(t, key, func(tkc *runv1alpha2.TanzuKubernetesCluster) {
		tkc.Spec.Topology.ControlPlane.TKR.Reference.Name = newest.ObjectName()
		for i := range tkc.Spec.Topology.NodePools {
			tkc.Spec.Topology.NodePools[i].TKR.Reference.Name = newest.ObjectName()
		}
	})
	start = time.Now()
	waitMachinesOn(t, key.Name, newest, 5*time.Minute)
	waitRunning(t, key, 2)
	t.Logf("upgraded to %s after %s", newest.Version, time.Since(start).Round(100*time.Millisecond))
	checkStatusVersion(t, key, newest)
	for _, vm := range clusterVMs(t, key.Name) {
		if want := newest.ImageName(); vm.Spec.ImageName != want {
			t.Errorf("VirtualMachine %s boots image %s, want %s", vm.Name, vm.Spec.ImageName, want)
		}
	}
}

// checkReleasesPublished checks that `kubectl get tkr` lists every shipped
// release, Ready, each with its ClusterVirtualMachineImage.
func checkReleasesPublished(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, rel := range templates.Releases {
		tkr := &runv1alpha2.TanzuKubernetesRelease{}
		if err := supervisor.client.Get(ctx, client.ObjectKey{Name: rel.ObjectName()}, tkr); err != nil {
			t.Errorf("TanzuKubernetesRelease %s: %v", rel.ObjectName(), err)
			continue
		}
		ready := false
		for _, c := range tkr.Status.Conditions {
			ready = ready || (c.Type == runv1alpha2.ReleaseReadyCondition && c.Status == corev1.ConditionTrue)
		}
		if !ready || tkr.Spec.Version != rel.Version {
			t.Errorf("TanzuKubernetesRelease %s: version %q, conditions %+v", rel.ObjectName(), tkr.Spec.Version, tkr.Status.Conditions)
		}
		image := &vmopv1.ClusterVirtualMachineImage{}
		if tkr.Spec.NodeImageRef == nil {
			t.Errorf("TanzuKubernetesRelease %s names no node image", rel.ObjectName())
		} else if err := supervisor.client.Get(ctx, client.ObjectKey{Name: tkr.Spec.NodeImageRef.Name}, image); err != nil {
			t.Errorf("the node image of %s: %v", rel.ObjectName(), err)
		}
	}
}

// waitMachinesOn waits until the cluster's Machines are exactly one per VM,
// none being deleted, each on the release's version and annotated with its
// Kubernetes version.
func waitMachinesOn(t *testing.T, cluster string, rel templates.Release, timeout time.Duration) {
	t.Helper()
	wait.For(t, timeout, fmt.Sprintf("every Machine of %s on %s", cluster, rel.Version), func() (bool, error) {
		var machines clusterv1.MachineList
		if err := supervisor.client.List(context.Background(), &machines, client.InNamespace("ns1"),
			client.MatchingLabels{clusterv1.ClusterNameLabel: cluster}); err != nil {
			return false, err
		}
		if len(machines.Items) != 2 {
			return false, fmt.Errorf("%d Machines", len(machines.Items))
		}
		for _, m := range machines.Items {
			// Cluster API is told the node image's kubelet version, as
			// Tanzu's own objects carry it (v1.36.3+vmware.1, the release's
			// Kubernetes build).
			if !m.DeletionTimestamp.IsZero() || m.Spec.Version != rel.KubernetesVersion ||
				m.Annotations[nodeVersionAnnotation] != tkrname.UpstreamVersion(rel.KubernetesVersion) {
				return false, fmt.Errorf("Machine %s: version %s, %s=%q, deleting %v", m.Name, m.Spec.Version,
					nodeVersionAnnotation, m.Annotations[nodeVersionAnnotation], !m.DeletionTimestamp.IsZero())
			}
		}
		return true, nil
	})
}

// checkStatusVersion checks that the cluster reports the release's full
// version.
func checkStatusVersion(t *testing.T, key client.ObjectKey, rel templates.Release) {
	t.Helper()
	hub := &runv1alpha3.TanzuKubernetesCluster{}
	if err := supervisor.client.Get(context.Background(), key, hub); err != nil {
		t.Fatal(err)
	}
	if hub.Status.Version != rel.Version || hub.Status.Phase != runv1alpha3.PhaseRunning {
		t.Errorf("status version %q, phase %q; want %s, running", hub.Status.Version, hub.Status.Phase, rel.Version)
	}
}

// deleteCluster deletes a cluster and waits for its VMs to be gone, so that
// the tests after it start from an empty namespace.
func deleteCluster(t *testing.T, key client.ObjectKey) {
	ctx := context.Background()
	tkc := &runv1alpha3.TanzuKubernetesCluster{}
	if err := supervisor.client.Get(ctx, key, tkc); err != nil {
		return
	}
	if err := supervisor.client.Delete(ctx, tkc); err != nil {
		t.Errorf("deleting %s: %v", key.Name, err)
		return
	}
	wait.For(t, 3*time.Minute, key.Name+" gone", func() (bool, error) {
		if err := supervisor.client.Get(ctx, key, &runv1alpha3.TanzuKubernetesCluster{}); err == nil {
			return false, fmt.Errorf("the TKC is still there")
		}
		if n := len(clusterVMs(t, key.Name)); n != 0 {
			return false, fmt.Errorf("%d VirtualMachines left", n)
		}
		return true, nil
	})
}

// logMachines logs the conditions of the cluster's control plane, pools
// and Machines: what a failed wait needs to be explained.
func logMachines(t *testing.T, cluster string) {
	ctx := context.Background()
	inCluster := []client.ListOption{client.InNamespace("ns1"), client.MatchingLabels{clusterv1.ClusterNameLabel: cluster}}
	var kcps controlplanev1.KubeadmControlPlaneList
	if err := supervisor.client.List(ctx, &kcps, inCluster...); err == nil {
		for _, kcp := range kcps.Items {
			t.Logf("KubeadmControlPlane %s: version %s, conditions %+v", kcp.Name, kcp.Spec.Version, kcp.Status.Conditions)
		}
	}
	var mds clusterv1.MachineDeploymentList
	if err := supervisor.client.List(ctx, &mds, inCluster...); err == nil {
		for _, md := range mds.Items {
			t.Logf("MachineDeployment %s: version %s, conditions %+v", md.Name, md.Spec.Template.Spec.Version, md.Status.Conditions)
		}
	}
	var machines clusterv1.MachineList
	if err := supervisor.client.List(ctx, &machines, inCluster...); err == nil {
		for _, m := range machines.Items {
			t.Logf("Machine %s: version %s, annotations %v, conditions %+v", m.Name, m.Spec.Version, m.Annotations, m.Status.Conditions)
		}
	}
}

// A cluster on one of VMware's FIPS VKr releases, named as vSphere 8 users
// name it, comes up: its Machines are told the release's Kubernetes build
// (v1.30.8+vmware.1-fips), which the nodes' kubelets report too, and its
// VMs boot the release's default (Photon) node image.
func TestPublishedFIPSReleaseRuns(t *testing.T) {
	ctx := context.Background()
	var rel templates.Release
	for _, r := range templates.Releases {
		if r.ObjectName() == "v1.30.8---vmware.1-fips-vkr.1" {
			rel = r
		}
	}
	if rel.Version == "" {
		t.Fatal("VMware's v1.30.8---vmware.1-fips-vkr.1 is not seeded")
	}
	ref := runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: rel.ObjectName()}}
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "tkc-fips"},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "best-effort-xsmall", StorageClass: "k8s-storage", TKR: ref},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "best-effort-xsmall", StorageClass: "k8s-storage", TKR: ref}}},
		}},
	}
	if err := supervisor.client.Create(ctx, tkc); err != nil {
		t.Fatalf("creating a cluster on %s: %v", rel.ObjectName(), err)
	}
	key := client.ObjectKeyFromObject(tkc)
	t.Cleanup(func() { deleteCluster(t, key) })
	t.Cleanup(func() {
		if t.Failed() {
			logMachines(t, key.Name)
		}
	})
	waitRunning(t, key, 2)
	waitMachinesOn(t, key.Name, rel, time.Minute)
	checkStatusVersion(t, key, rel)
	for _, vm := range clusterVMs(t, key.Name) {
		if vm.Spec.ImageName != rel.ImageName() {
			t.Errorf("VirtualMachine %s boots image %s, want %s", vm.Name, vm.Spec.ImageName, rel.ImageName())
		}
	}
}
