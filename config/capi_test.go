package config

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterAPICRDs(t *testing.T) {
	crds, err := ClusterAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 17 {
		t.Errorf("got %d Cluster API CRDs, want 13 core + 2 control plane + 2 bootstrap", len(crds))
	}
	for _, crd := range crds {
		// Cluster API resolves the apiVersion of KCP and bootstrap objects
		// from these labels; without them it cannot read them at all.
		kubeadm := strings.HasSuffix(crd.Spec.Group, "controlplane.cluster.x-k8s.io") || crd.Spec.Group == "bootstrap.cluster.x-k8s.io"
		if got := crd.Labels["cluster.x-k8s.io/v1beta2"]; kubeadm && got != "v1beta2" {
			t.Errorf("%s: contract label cluster.x-k8s.io/v1beta2 = %q, want v1beta2", crd.Name, got)
		}
	}
}

func TestClusterAPIWebhooks(t *testing.T) {
	mutating, validating, err := ClusterAPIWebhooks()
	if err != nil {
		t.Fatal(err)
	}
	if len(mutating) != 3 || len(validating) != 3 {
		t.Fatalf("got %d mutating and %d validating configurations, want one of each per provider", len(mutating), len(validating))
	}
	// envtest and kubectl apply replace configurations by name.
	names := map[string]bool{}
	for _, m := range mutating {
		names[m.Name] = true
	}
	for _, v := range validating {
		names[v.Name] = true
	}
	if len(names) != 6 {
		t.Errorf("webhook configuration names are not unique: %v", names)
	}
}

// TestClusterAPIManifestsUpToDate regenerates the copies from the module
// go.mod pins and compares: a Cluster API bump needs `make manifests`.
func TestClusterAPIManifestsUpToDate(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to find the Cluster API module")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../hack/capi-manifests.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/capi-manifests.sh: %v\n%s", err, b)
	}
	for _, dir := range []string{"crd/capi", "webhook/capi"} {
		want, _ := filepath.Glob(filepath.Join(out, dir, "*.yaml"))
		got, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if len(got) != len(want) {
			t.Errorf("%s holds %d files, the module gives %d; run make manifests", dir, len(got), len(want))
			continue
		}
		for _, w := range want {
			wb, _ := os.ReadFile(w)
			gb, err := os.ReadFile(filepath.Join(dir, filepath.Base(w)))
			if err != nil || !bytes.Equal(wb, gb) {
				t.Errorf("%s/%s differs from the module's; run make manifests", dir, filepath.Base(w))
			}
		}
	}
}
