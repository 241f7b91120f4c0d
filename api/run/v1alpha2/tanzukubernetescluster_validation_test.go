package v1alpha2

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
)

// twoPools is a v1alpha2 manifest in the shape of VMware's examples, with
// two node pools, one on an explicit release, and the deprecated hint.
const twoPools = `
apiVersion: run.tanzu.vmware.com/v1alpha2
kind: TanzuKubernetesCluster
metadata: {name: tkc02, namespace: ns1}
spec:
  distribution: {version: v1.21}
  topology:
    controlPlane:
      replicas: 3
      vmClass: guaranteed-small
      storageClass: k8s-storage
      volumes:
      - {name: etcd, mountPath: /var/lib/etcd, capacity: {storage: 4Gi}}
    nodePools:
    - name: workers
      replicas: 3
      vmClass: best-effort-medium
      storageClass: k8s-storage
      labels: {tier: web}
      taints: [{key: dedicated, value: web, effect: NoSchedule}]
      volumes:
      - {name: containerd, mountPath: /var/lib/containerd, capacity: {storage: 50Gi}, storageClass: fast}
    - name: batch
      vmClass: best-effort-large
      storageClass: fast
      tkr: {reference: {name: v1.21.14---vmware.1-tkg.1}}
      nodeDrainTimeout: 5m
  settings:
    network:
      cni: {name: antrea}
      pods: {cidrBlocks: ["192.168.0.0/16"]}
      services: {cidrBlocks: ["10.96.0.0/12"]}
      proxy: {httpProxy: "http://proxy:3128", noProxy: [localhost]}
    storage: {classes: [k8s-storage, fast], defaultClass: k8s-storage}
`

func decode(t *testing.T) *TanzuKubernetesCluster {
	t.Helper()
	c := &TanzuKubernetesCluster{}
	if err := yaml.UnmarshalStrict([]byte(twoPools), c); err != nil {
		t.Fatalf("the manifest does not decode strictly: %v", err)
	}
	return c
}

func TestTwoNodePoolsValidate(t *testing.T) {
	c := decode(t)
	if err := c.Default(testfixtures.Facts()); err != nil {
		t.Fatal(err)
	}
	if errs := c.ValidateCreate(testfixtures.Facts()); len(errs) != 0 {
		t.Fatalf("rejected: %v", errs)
	}
	if c.Spec.Distribution.Version != "v1.21.14+vmware.1-tkg.1" || c.Spec.Topology.ControlPlane.TKR.Reference.Name != "v1.21.14---vmware.1-tkg.1" {
		t.Errorf("the hint did not resolve to the control plane's release: %+v %+v", c.Spec.Distribution, c.Spec.Topology.ControlPlane.TKR)
	}
	if p := c.Spec.Topology.NodePools[0]; p.TKR.Reference == nil || p.TKR.Reference.Name != "v1.21.14---vmware.1-tkg.1" || p.Replicas == nil {
		t.Errorf("pool workers = %+v, want the control plane's release and its replicas", p)
	}
	if c.Spec.Topology.NodePools[1].Replicas != nil {
		t.Errorf("pool batch got replicas; nil leaves it to an autoscaler")
	}
	if len(c.Annotations) != 0 {
		t.Errorf("defaulting left annotations: %v", c.Annotations)
	}
}

func TestInvalidV1alpha2NamesTheField(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*TanzuKubernetesCluster)
		field  string
	}{
		{"class not bound", func(c *TanzuKubernetesCluster) { c.Spec.Topology.NodePools[1].VMClass = "gold" }, "spec.topology.nodePools[1].vmClass"},
		{"even control plane", func(c *TanzuKubernetesCluster) { *c.Spec.Topology.ControlPlane.Replicas = 2 }, "spec.topology.controlPlane.replicas"},
		{"unknown version", func(c *TanzuKubernetesCluster) { c.Spec.Distribution.VersionHint = "v1.30" }, "spec.distribution.version"},
		{"unknown release", func(c *TanzuKubernetesCluster) {
			c.Spec.Topology.NodePools[1].TKR.Reference.Name = "v1.21.99---vmware.1-tkg.1"
		}, "spec.topology.nodePools[1].tkr.reference.name"},
		{"duplicate pool", func(c *TanzuKubernetesCluster) { c.Spec.Topology.NodePools[1].Name = "workers" }, "spec.topology.nodePools[1].name"},
		{"volume storage class", func(c *TanzuKubernetesCluster) {
			c.Spec.Topology.NodePools[0].Volumes[0].StorageClass = "gold"
		}, "spec.topology.nodePools[0].volumes[0].storageClass"},
		{"overlapping CIDRs", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Network.Pods.CIDRBlocks = []string{"10.100.0.0/16"}
		}, "spec.settings.network.services.cidrBlocks[0]"},
		{"CIDR does not parse", func(c *TanzuKubernetesCluster) {
			c.Spec.Settings.Network.Services.CIDRBlocks = []string{"10.96.0.0"}
		}, "spec.settings.network.services.cidrBlocks[0]"},
	}
	for _, tc := range cases {
		c := decode(t)
		tc.mutate(c)
		if err := c.Default(testfixtures.Facts()); err != nil {
			t.Fatal(err)
		}
		assertField(t, tc.name, c.ValidateCreate(testfixtures.Facts()), tc.field)
	}
}

func TestV1alpha2UpdateKeepsImmutableFields(t *testing.T) {
	old := decode(t)
	if err := old.Default(testfixtures.Facts()); err != nil {
		t.Fatal(err)
	}
	c := old.DeepCopy()
	c.Spec.Settings.Network.ServiceDomain = "corp.local"
	assertField(t, "serviceDomain changed", c.ValidateUpdate(old, testfixtures.Facts()), "spec.settings.network.serviceDomain")

	c = old.DeepCopy()
	c.Spec.Distribution = Distribution{}
	c.Spec.Topology.NodePools[1].TKR.Reference.Name = "v1.20.15---vmware.1-tkg.1"
	assertField(t, "pool downgraded", c.ValidateUpdate(old, testfixtures.Facts()), "spec.topology.nodePools[1].tkr.reference.name")
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
