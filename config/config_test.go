package config

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestProjectManifests: what `make manifests` generated parses, and every
// CRD is named as the API server requires (<plural>.<group>), or installing
// it fails.
func TestProjectManifests(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, crd := range crds {
		if want := crd.Spec.Names.Plural + "." + crd.Spec.Group; crd.Name != want {
			t.Errorf("CRD %s should be named %s", crd.Name, want)
		}
		names[crd.Name] = true
	}
	if !names["tanzukubernetesclusters.run.tanzu.vmware.com"] {
		t.Errorf("no TanzuKubernetesCluster CRD among %v", names)
	}
	mutating, validating, err := Webhooks()
	if err != nil {
		t.Fatal(err)
	}
	if len(mutating) != 1 || len(validating) != 1 || len(mutating[0].Webhooks) == 0 || len(validating[0].Webhooks) == 0 {
		t.Errorf("got %d mutating and %d validating configurations, want one of each with webhooks", len(mutating), len(validating))
	}
}

const (
	crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec: {group: example.com, names: {kind: Thing, plural: things}, scope: Namespaced}
`
	mutating = `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: m}
`
	validating = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
`
)

func TestLoadersReadEveryDocument(t *testing.T) {
	fsys := fstest.MapFS{
		"crd/a.yaml":     {Data: []byte("---\n" + crd)},
		"crd/b.yaml":     {Data: []byte("# generated\n---\n" + strings.ReplaceAll(crd, "things", "others") + "---\n")},
		"webhook/a.yaml": {Data: []byte("---\n" + mutating + "---\n" + validating)},
	}
	crds, err := loadCRDs(fsys, "crd/*.yaml")
	if err != nil || len(crds) != 2 || crds[1].Name != "others.example.com" {
		t.Errorf("loadCRDs = %v, %v; want things and others", crds, err)
	}
	m, v, err := loadWebhooks(fsys, "webhook/*.yaml")
	if err != nil || len(m) != 1 || m[0].Name != "m" || len(v) != 1 || v[0].Name != "v" {
		t.Errorf("loadWebhooks = %v, %v, %v; want m and v", m, v, err)
	}
}

func TestLoadersRefuseWhatTheyCannotInstall(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		webhooks   bool
	}{
		{"not YAML", "kind: [", false},
		{"misspelt field", strings.Replace(crd, "scope:", "scoop:", 1), false},
		{"webhook among CRDs", crd + "---\n" + mutating, false},
		{"no kind", "metadata: {name: x}\n", false},
		{"CRD among webhooks", mutating + "---\n" + crd, true},
		{"misspelt webhook field", mutating + "webhook: []\n", true},
		{"bad separator", mutating + "--- x\n" + validating, true},
	} {
		fsys := fstest.MapFS{"dir/a.yaml": {Data: []byte(tc.file)}}
		var err error
		if tc.webhooks {
			_, _, err = loadWebhooks(fsys, "dir/*.yaml")
		} else {
			_, err = loadCRDs(fsys, "dir/*.yaml")
		}
		if err == nil || !strings.Contains(err.Error(), "dir/a.yaml") {
			t.Errorf("%s: err = %v, want an error naming dir/a.yaml", tc.name, err)
		}
	}
	if _, err := loadCRDs(fstest.MapFS{}, "crd/*.yaml"); err == nil {
		t.Error("a glob that matches nothing was accepted")
	}
}
