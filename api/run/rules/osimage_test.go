package rules

import (
	"strings"
	"testing"
)

var v1249Images = []string{
	"ob-21554409-photon-3-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4",
	"ob-21552850-ubuntu-2004-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4",
}

// vSphere 8's resolve-os-image annotation picks the node image by OS; no
// annotation keeps the release's default (Photon), and an OS the release
// does not ship is refused naming the annotation.
func TestResolveOSImage(t *testing.T) {
	for value, want := range map[string]string{
		"":                                  v1249Images[0],
		"os-name=photon":                    v1249Images[0],
		"os-name=ubuntu":                    v1249Images[1],
		"os-name=ubuntu,os-version=20.04":   v1249Images[1],
		"os-name in (ubuntu),os-arch=amd64": v1249Images[1],
	} {
		sel, err := ParseOSSelector(value)
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		if got, ok := SelectImage(v1249Images, sel); !ok || got != want {
			t.Errorf("%q selects %q (%v), want %q", value, got, ok, want)
		}
	}
	if _, err := ParseOSSelector("os=ubuntu"); err == nil || !strings.Contains(err.Error(), "os-name") {
		t.Errorf("an unknown key is accepted or not explained: %v", err)
	}

	releases := []Release{{Name: "v1.24.9---vmware.1-tkg.4", Images: v1249Images}}
	annotation := func(v string) map[string]string { return map[string]string{ResolveOSImageAnnotation: v} }
	if errs := ValidateOSImage(annotation("os-name=ubuntu"), []string{releases[0].Name}, releases); len(errs) != 0 {
		t.Errorf("ubuntu on a release that ships it is refused: %v", errs)
	}
	errs := ValidateOSImage(annotation("os-name=windows"), []string{releases[0].Name}, releases)
	if len(errs) != 1 || errs[0].Field != "metadata.annotations[run.tanzu.vmware.com/resolve-os-image]" || !strings.Contains(errs[0].Detail, "no node image of this OS") {
		t.Errorf("an OS the release lacks gives %v", errs)
	}
	if errs := ValidateOSImage(annotation("os-name in ubuntu"), nil, releases); len(errs) != 1 {
		t.Errorf("a malformed selector gives %v", errs)
	}
}
