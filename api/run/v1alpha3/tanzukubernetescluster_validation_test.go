package v1alpha3_test

import (
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// vsphere8 is the vSphere 8 sample of the reference with this project's
// names: it decodes strictly, defaults and validates.
const vsphere8 = `
apiVersion: run.tanzu.vmware.com/v1alpha3
kind: TanzuKubernetesCluster
metadata: {name: test-cluster, namespace: ns1}
spec:
  topology:
    controlPlane:
      tkr: {reference: {name: v1.23.17---vmware.1-tkg.1}}
      replicas: 3
      vmClass: best-effort-xsmall
      storageClass: k8s-storage
    nodePools:
    - {name: np-2, replicas: 2, vmClass: best-effort-xsmall, storageClass: k8s-storage, failureDomain: zone-a}
  settings:
    network:
      cni: {name: antrea}
      services: {cidrBlocks: ["198.51.100.0/12"]}
      pods: {cidrBlocks: ["192.0.2.0/16"]}
      serviceDomain: cluster.local
`

func TestVSphere8SampleValidates(t *testing.T) {
	c := &runv1alpha3.TanzuKubernetesCluster{}
	if err := yaml.UnmarshalStrict([]byte(vsphere8), c); err != nil {
		t.Fatal(err)
	}
	c.Default(testfixtures.Facts())
	if errs := c.ValidateCreate(testfixtures.Facts()); len(errs) != 0 {
		t.Fatalf("rejected: %v", errs)
	}
	if c.Spec.Topology.NodePools[0].TKR.Reference.Name != "v1.23.17---vmware.1-tkg.1" {
		t.Errorf("the pool did not default to the control plane's release")
	}
	c.Spec.Topology.NodePools[0].VMClass = "gold"
	if errs := c.ValidateCreate(testfixtures.Facts()); len(errs) != 1 || errs[0].Field != "spec.topology.nodePools[0].vmClass" {
		t.Errorf("want one error at spec.topology.nodePools[0].vmClass, got %v", errs)
	}
}
