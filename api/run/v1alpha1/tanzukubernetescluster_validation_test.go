package v1alpha1

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
)

// sample decodes the project's first sample manifest as the API server
// would: strictly, so a field name we got wrong fails here.
func sample(t *testing.T) *TanzuKubernetesCluster {
	t.Helper()
	b, err := os.ReadFile("../../../templates/samples/tkc-v1alpha1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := &TanzuKubernetesCluster{}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		t.Fatalf("the sample does not decode strictly: %v", err)
	}
	c.Namespace = "ns1" // from the kubectl context
	return c
}

func TestSampleIsAcceptedUnchanged(t *testing.T) {
	c := sample(t)
	before := c.DeepCopy()
	c.Default(testfixtures.Facts())
	if errs := c.ValidateCreate(testfixtures.Facts()); len(errs) != 0 {
		t.Fatalf("the sample was rejected: %v", errs)
	}
	n := c.Spec.Settings.Network
	if c.Spec.Distribution.Version != "v1.18.20+vmware.1-tkg.1" || c.Spec.Distribution.VersionHint != "v1.18" {
		t.Errorf("distribution = %+v, want v1.18 resolved to v1.18.20+vmware.1-tkg.1", c.Spec.Distribution)
	}
	if n.CNI.Name != "antrea" || n.Pods.CIDRBlocks[0] != "193.0.2.0/16" || n.Services.CIDRBlocks[0] != "195.51.100.0/12" {
		t.Errorf("defaulting changed what the user wrote: %+v", n)
	}
	if n.ServiceDomain != "cluster.local" {
		t.Errorf("serviceDomain = %q, want cluster.local", n.ServiceDomain)
	}
	c.Spec.Distribution.Version, c.Spec.Settings.Network.ServiceDomain = "", ""
	before.Spec.Settings.Network.ServiceDomain = ""
	if !equalJSON(t, c, before) {
		t.Errorf("defaulting changed more than fullVersion and serviceDomain")
	}
}

func TestDefaultsFillNetworkAndResolveNewest(t *testing.T) {
	c := sample(t)
	c.Spec.Settings = nil
	c.Spec.Distribution = Distribution{}
	f := testfixtures.Facts()
	f.DefaultCNI = "calico" // TkgServiceConfiguration's defaultCNI
	c.Default(f)
	n := c.Spec.Settings.Network
	if n.CNI.Name != "calico" || n.Pods.CIDRBlocks[0] != "192.168.0.0/16" || n.Services.CIDRBlocks[0] != "10.96.0.0/12" || n.ServiceDomain != "cluster.local" {
		t.Errorf("network defaults = %+v", n)
	}
	if c.Spec.Distribution.Version != "v1.23.17+vmware.1-tkg.1" {
		t.Errorf("no hint resolved to %q, want the newest release", c.Spec.Distribution.Version)
	}
	for hint, want := range map[string]string{"v1.18.20": "v1.18.20+vmware.1-tkg.1", "v1.21.14+vmware.1-tkg.1": "v1.21.14+vmware.1-tkg.1", "v1.2": ""} {
		c.Spec.Distribution = Distribution{VersionHint: hint}
		c.Default(f)
		if c.Spec.Distribution.Version != want {
			t.Errorf("hint %s resolved to %q, want %q", hint, c.Spec.Distribution.Version, want)
		}
	}
}

func TestInvalidClustersNameTheField(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*TanzuKubernetesCluster)
		field  string
	}{
		{"class not bound", func(c *TanzuKubernetesCluster) { c.Spec.Topology.Workers.Class = "gold" }, "spec.topology.workers.class"},
		{"storage class not allowed", func(c *TanzuKubernetesCluster) { c.Spec.Topology.ControlPlane.StorageClass = "gold" }, "spec.topology.controlPlane.storageClass"},
		{"even control plane", func(c *TanzuKubernetesCluster) { c.Spec.Topology.ControlPlane.Count = 2 }, "spec.topology.controlPlane.count"},
		{"five control-plane nodes", func(c *TanzuKubernetesCluster) { c.Spec.Topology.ControlPlane.Count = 5 }, "spec.topology.controlPlane.count"},
		{"unknown version", func(c *TanzuKubernetesCluster) { c.Spec.Distribution.VersionHint = "v1.17" }, "spec.distribution.version"},
		{"unknown full version", func(c *TanzuKubernetesCluster) { c.Spec.Distribution.Version = "v1.18.99+vmware.1-tkg.1" }, "spec.distribution.fullVersion"},
		{"hint not matching", func(c *TanzuKubernetesCluster) { c.Spec.Distribution.Version = "v1.19.16+vmware.1-tkg.1" }, "spec.distribution.version"},
		{"CIDRs overlap", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Network.Services.CIDRBlocks = []string{"193.0.128.0/20"}
		}, "spec.settings.network.services.cidrBlocks[0]"},
		{"CIDR overlaps the supervisor", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Network.Pods.CIDRBlocks = []string{"127.0.0.0/8"}
		}, "spec.settings.network.pods.cidrBlocks[0]"},
		{"CIDR does not parse", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Network.Pods.CIDRBlocks = []string{"193.0.2.0/33"}
		}, "spec.settings.network.pods.cidrBlocks[0]"},
		{"unknown CNI", func(c *TanzuKubernetesCluster) { c.Spec.Settings.Network.CNI.Name = "flannel" }, "spec.settings.network.cni.name"},
		{"default storage class not exposed", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Storage = &Storage{Classes: []string{"k8s-storage"}, DefaultClass: "fast"}
		}, "spec.settings.storage.defaultClass"},
	}
	for _, tc := range cases {
		c := sample(t)
		tc.mutate(c)
		c.Default(testfixtures.Facts())
		assertField(t, tc.name, c.ValidateCreate(testfixtures.Facts()), tc.field)
	}
}

func TestUpdateKeepsImmutableFields(t *testing.T) {
	old := sample(t)
	old.Default(testfixtures.Facts())
	cases := []struct {
		name   string
		mutate func(*TanzuKubernetesCluster)
		field  string
	}{
		{"pods changed", func(c *TanzuKubernetesCluster) { c.Spec.Settings.Network.Pods.CIDRBlocks = []string{"192.168.0.0/16"} }, "spec.settings.network.pods.cidrBlocks"},
		{"services changed", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Network.Services.CIDRBlocks = []string{"10.96.0.0/12"}
		}, "spec.settings.network.services.cidrBlocks"},
		{"CNI changed", func(c *TanzuKubernetesCluster) { c.Spec.Settings.Network.CNI.Name = "calico" }, "spec.settings.network.cni"},
		{"version unchanged, hint dropped", func(c *TanzuKubernetesCluster) {
			c.Spec.Distribution = Distribution{Version: "v1.18.20+vmware.1-tkg.1"}
		}, ""},
		{"skips a minor", func(c *TanzuKubernetesCluster) {
			c.Spec.Distribution = Distribution{Version: "v1.20.15+vmware.1-tkg.1"}
		}, "spec.distribution.fullVersion"},
	}
	for _, tc := range cases {
		c := old.DeepCopy()
		tc.mutate(c)
		errs := c.ValidateUpdate(old, testfixtures.Facts())
		if tc.field == "" {
			if len(errs) != 0 {
				t.Errorf("%s: rejected: %v", tc.name, errs)
			}
			continue
		}
		assertField(t, tc.name, errs, tc.field)
	}
	newer := old.DeepCopy()
	newer.Spec.Distribution = Distribution{VersionHint: "v1.19"}
	newer.Default(testfixtures.Facts())
	newer.Spec.Topology.Workers.Count = 5
	if errs := newer.ValidateUpdate(old, testfixtures.Facts()); len(errs) != 0 {
		t.Errorf("scaling and upgrading one minor was rejected: %v", errs)
	}
	if errs := old.ValidateUpdate(newer, testfixtures.Facts()); len(errs) != 1 || errs[0].Field != "spec.distribution.fullVersion" {
		t.Errorf("a downgrade should be rejected at spec.distribution.fullVersion, got %v", errs)
	}
}

func assertField(t *testing.T, name string, errs field.ErrorList, want string) {
	t.Helper()
	for _, e := range errs {
		if e.Field == want {
			return
		}
	}
	t.Errorf("%s: want an error at %s, got %v", name, want, errs)
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(ja) != string(jb) {
		t.Logf("got:\n%s\nwant:\n%s", ja, jb)
		return false
	}
	return true
}

// vSphere 7 U1's separate disks are accepted in v1alpha1 and checked as in
// the later versions, with v1alpha1's field paths.
func TestVolumesValidated(t *testing.T) {
	c := sample(t)
	c.Spec.Topology.ControlPlane.Volumes = []Volume{{Name: "etcd", MountPath: "/var/lib/etcd",
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("4Gi")}}}
	c.Spec.Topology.Workers.Volumes = []Volume{{Name: "containerd", MountPath: "/var/lib/containerd",
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("16Gi")}}}
	c.Default(testfixtures.Facts())
	if errs := c.ValidateCreate(testfixtures.Facts()); len(errs) != 0 {
		t.Fatalf("separate disks were rejected: %v", errs)
	}
	c.Spec.Topology.Workers.Volumes[0].MountPath = "var/lib/containerd"
	c.Spec.Topology.Workers.Volumes = append(c.Spec.Topology.Workers.Volumes, Volume{Name: "data", MountPath: "/data"})
	errs := c.ValidateCreate(testfixtures.Facts())
	want := map[string]bool{"spec.topology.workers.volumes[0].mountPath": true, "spec.topology.workers.volumes[1].capacity.storage": true}
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want one for each of %v", errs, want)
	}
	for _, e := range errs {
		if !want[e.Field] {
			t.Errorf("unexpected error %v", e)
		}
	}
}
