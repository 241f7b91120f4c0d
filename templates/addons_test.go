package templates

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Every shipped CNI renders to YAML documents of kinds the guest API
// server serves, with the cluster's ranges in them.
func TestCNIManifests(t *testing.T) {
	served := map[string]bool{"Namespace": true, "ServiceAccount": true, "ConfigMap": true, "ClusterRole": true,
		"ClusterRoleBinding": true, "DaemonSet": true, "Deployment": true}
	for _, c := range CNIs {
		out, err := c.Manifest(CNIValues{PodCIDRs: []string{"193.0.0.0/16"}, ServiceCIDRs: []string{"195.48.0.0/12"}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte("193.0.0.0/16")) || !bytes.Contains(out, []byte(c.Version)) {
			t.Errorf("%s: the pod range or the version is missing", c.Name)
		}
		kinds := map[string]int{}
		for _, doc := range strings.Split(string(out), "\n---\n") {
			var obj struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			if !served[obj.Kind] || obj.Metadata.Name == "" {
				t.Errorf("%s: document of kind %q named %q", c.Name, obj.Kind, obj.Metadata.Name)
			}
			kinds[obj.Kind]++
		}
		if kinds["DaemonSet"] != 1 || kinds["Deployment"] != 1 {
			t.Errorf("%s: kinds %v", c.Name, kinds)
		}
	}
	if _, err := (CNI{Name: "antrea"}).Manifest(CNIValues{}); err == nil {
		t.Error("a manifest without ranges must be refused")
	}
}
