package v1alpha1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

func fullV1alpha1() []*TanzuKubernetesCluster {
	full := &TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "tkc01", Namespace: "ns1", Annotations: map[string]string{"note": "x"}},
		Spec: TanzuKubernetesClusterSpec{
			Topology: Topology{
				// vSphere 7 U1's "cluster with separate disks".
				ControlPlane: TopologySettings{Count: 3, Class: "guaranteed-small", StorageClass: "k8s-storage",
					Volumes: []Volume{{Name: "etcd", MountPath: "/var/lib/etcd", Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("4Gi")}}}},
				Workers: TopologySettings{Count: 3, Class: "best-effort-small", StorageClass: "k8s-storage",
					Volumes: []Volume{{Name: "containerd", MountPath: "/var/lib/containerd", StorageClass: "fast",
						Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("16Gi")}}}},
			},
			Distribution: Distribution{Version: "v1.18.20+vmware.1-tkg.1", VersionHint: "v1.18"},
			Settings:     &Settings{Storage: &Storage{Classes: []string{"k8s-storage"}, DefaultClass: "k8s-storage"}},
		},
		Status: TanzuKubernetesClusterStatus{
			ClusterAPIStatus: &ClusterAPIStatus{
				APIEndpoints: []APIEndpoint{{Host: "127.30.0.5", Port: 6443}},
				ErrorReason:  ptr.To("CreateError"), ErrorMessage: ptr.To("boom"), Phase: "Provisioned",
			},
			VMStatus:   map[string]VirtualMachineState{"tkc01-cp-1": VirtualMachineStateReady},
			NodeStatus: map[string]NodeStatus{"tkc01-cp-1": NodeStatusReady},
			Upgrade:    &UpgradeStatus{ToVersion: "v1.19", Phase: "done", UpgradeID: "1", Done: true, Errors: []UpgradeError{{Message: "m"}}},
			Version:    "v1.18.20+vmware.1-tkg.1",
			Addons: &AddonsStatuses{
				DNS:           &AddonStatus{Name: "coredns", Status: AddonStateApplied, Version: "1.6"},
				Proxy:         &AddonStatus{Name: "kube-proxy", Status: AddonStateUnmanaged},
				PSP:           &AddonStatus{Name: "psp", Status: AddonStatePending},
				CNI:           &AddonStatus{Name: "antrea", Status: AddonStateError, LastErrorMessage: "image pull"},
				CSI:           &AddonStatus{Name: "pvcsi", Status: AddonStateApplied, LastErrorMessage: "earlier failure"},
				CloudProvider: &AddonStatus{Name: "pvcpi", Status: AddonStateApplied},
				AuthService:   &AddonStatus{Name: "authsvc", Status: AddonStateApplied},
			},
			Phase:                PhaseRunning,
			NodeRemediationCount: 2,
		},
	}
	n := testfixtures.Network()
	full.Spec.Settings.Network = &Network{
		Services: &NetworkRanges{CIDRBlocks: n.Services.CIDRBlocks}, Pods: &NetworkRanges{CIDRBlocks: n.Pods.CIDRBlocks},
		ServiceDomain: n.ServiceDomain, CNI: &CNIConfiguration{Name: n.CNI.Name},
		Proxy: &ProxyConfiguration{HttpProxy: n.Proxy.HttpProxy, NoProxy: n.Proxy.NoProxy},
		Trust: &TrustConfiguration{AdditionalTrustedCAs: []TLSCertificate{TLSCertificate(n.Trust.AdditionalTrustedCAs[0])}},
	}
	minimal := &TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "tkc02", Namespace: "ns1"},
		Spec: TanzuKubernetesClusterSpec{Topology: Topology{
			ControlPlane: TopologySettings{Count: 1, Class: "best-effort-xsmall", StorageClass: "k8s-storage"},
		}},
	}
	hintOnly := full.DeepCopy()
	hintOnly.Spec.Distribution.Version = ""
	hintOnly.Status = TanzuKubernetesClusterStatus{Phase: PhaseCreating}
	return []*TanzuKubernetesCluster{full, minimal, hintOnly}
}

func TestConvertV1alpha1HubV1alpha1(t *testing.T) {
	for _, want := range fullV1alpha1() {
		hub := &v1alpha3.TanzuKubernetesCluster{}
		if err := want.DeepCopy().ConvertTo(hub); err != nil {
			t.Fatal(err)
		}
		got := &TanzuKubernetesCluster{}
		if err := got.ConvertFrom(hub); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("%s: v1alpha1 → v1alpha3 → v1alpha1 lost data:\n%s", want.Name, diff.Diff(want, got))
		}
	}
}

func TestConvertHubV1alpha1Hub(t *testing.T) {
	for _, want := range testfixtures.HubClusters() {
		spoke := &TanzuKubernetesCluster{}
		if err := spoke.ConvertFrom(want.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		got := &v1alpha3.TanzuKubernetesCluster{}
		if err := spoke.ConvertTo(got); err != nil {
			t.Fatal(err)
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("%s: v1alpha3 → v1alpha1 → v1alpha3 lost data:\n%s", want.Name, diff.Diff(want, got))
		}
	}
}

func TestConvertToHubMapsFields(t *testing.T) {
	hub := &v1alpha3.TanzuKubernetesCluster{}
	if err := fullV1alpha1()[0].ConvertTo(hub); err != nil {
		t.Fatal(err)
	}
	cp, pools := hub.Spec.Topology.ControlPlane, hub.Spec.Topology.NodePools
	if *cp.Replicas != 3 || cp.VMClass != "guaranteed-small" || cp.TKR.Reference.Name != testfixtures.Release118 {
		t.Errorf("control plane = %+v", cp)
	}
	if len(pools) != 1 || pools[0].Name != WorkersPoolName || *pools[0].Replicas != 3 || pools[0].TKR.Reference.Name != testfixtures.Release118 {
		t.Errorf("node pools = %+v", pools)
	}
	if v := cp.Volumes; len(v) != 1 || v[0].MountPath != "/var/lib/etcd" || v[0].Capacity.Storage().String() != "4Gi" {
		t.Errorf("control plane volumes = %+v, want the etcd disk", v)
	}
	if v := pools[0].Volumes; len(v) != 1 || v[0].Name != "containerd" || v[0].StorageClass != "fast" {
		t.Errorf("worker volumes = %+v, want the containerd disk on fast", v)
	}
	// The controller writes VM and node states in the hub.
	if s := hub.Status; s.VMStatus["tkc01-cp-1"] != v1alpha3.VirtualMachineStateReady || s.NodeStatus["tkc01-cp-1"] != v1alpha3.NodeStatusReady {
		t.Errorf("vmStatus = %v, nodeStatus = %v", s.VMStatus, s.NodeStatus)
	}
}

// An edit made in v1alpha1 lands in the hub without dropping what only the
// hub has, and an upgrade made in v1alpha3 drops a hint that no longer fits.
func TestConvertKeepsHubExtrasAcrossEdits(t *testing.T) {
	hub := testfixtures.HubClusters()[0]
	spoke := &TanzuKubernetesCluster{}
	if err := spoke.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	spoke.Spec.Topology.Workers.Count = 5
	spoke.Spec.Distribution.Version = "v1.20.15+vmware.1-tkg.1"
	got := &v1alpha3.TanzuKubernetesCluster{}
	if err := spoke.ConvertTo(got); err != nil {
		t.Fatal(err)
	}
	// A volume removed in v1alpha1 is removed from the hub.
	noVolumes := spoke.DeepCopy()
	noVolumes.Spec.Topology.Workers.Volumes = nil
	without := &v1alpha3.TanzuKubernetesCluster{}
	if err := noVolumes.ConvertTo(without); err != nil {
		t.Fatal(err)
	}
	if v := without.Spec.Topology.NodePools[0].Volumes; len(v) != 0 {
		t.Errorf("volumes removed in v1alpha1 stay in the hub: %+v", v)
	}
	np := got.Spec.Topology.NodePools
	if *np[0].Replicas != 5 || len(np[0].Volumes) != 1 || len(np) != 2 || *np[0].FailureDomain != "zone-a" {
		t.Errorf("edit lost hub data: %+v", np)
	}
	if got.Spec.Topology.ControlPlane.TKR.Reference.Name != "v1.20.15---vmware.1-tkg.1" || np[0].TKR.Reference.Name != "v1.20.15---vmware.1-tkg.1" {
		t.Errorf("release change did not move the pools on the control plane's release: %+v", got.Spec.Topology)
	}
	if np[1].TKR.Reference.Name != testfixtures.Release118 {
		t.Errorf("a pool on its own release moved: %s", np[1].TKR.Reference.Name)
	}

	hub = &v1alpha3.TanzuKubernetesCluster{}
	if err := fullV1alpha1()[0].ConvertTo(hub); err != nil {
		t.Fatal(err)
	}
	hub.Spec.Topology.ControlPlane.TKR.Reference.Name = testfixtures.Release119
	back := &TanzuKubernetesCluster{}
	if err := back.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	if d := back.Spec.Distribution; d.Version != "v1.19.16+vmware.1-tkg.1" || d.VersionHint != "" {
		t.Errorf("after an upgrade in v1alpha3, distribution = %+v, want v1.19.16 and no stale v1.18 hint", d)
	}
}
