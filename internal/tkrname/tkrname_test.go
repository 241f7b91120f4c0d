package tkrname

import (
	"strings"
	"testing"
)

// Every naming era of vSphere's subscribed library yields the release,
// version, Kubernetes build and OS that vSphere shows for it.
func TestParsePublishedItemNames(t *testing.T) {
	cases := []struct {
		item, release, version, kubernetes, osName, osVersion string
	}{
		// vSphere 7 legacy Photon.
		{"ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067", "v1.20.7---vmware.1-tkg.1.7fb9067",
			"v1.20.7+vmware.1-tkg.1.7fb9067", "v1.20.7+vmware.1", "photon", "3.0"},
		// vSphere 7 legacy Ubuntu (GPU).
		{"ob-18691651-tkgs-ova-ubuntu-2004-v1.20.8---vmware.1-tkg.2", "v1.20.8---vmware.1-tkg.2",
			"v1.20.8+vmware.1-tkg.2", "v1.20.8+vmware.1", "ubuntu", "20.04"},
		// The legacy Ubuntu twin spelt "<photon twin>.ubuntu".
		{"tkgs-ova-ubuntu-2004-v1.23.8---vmware.3-tkg.1.ubuntu", "v1.23.8---vmware.3-tkg.1.ubuntu",
			"v1.23.8+vmware.3-tkg.1.ubuntu", "v1.23.8+vmware.3", "ubuntu", "20.04"},
		// vSphere 8 non-legacy, FIPS builds.
		{"ob-21961086-photon-3-amd64-vmi-k8s-v1.25.7---vmware.3-fips.1-tkg.1", "v1.25.7---vmware.3-fips.1-tkg.1",
			"v1.25.7+vmware.3-fips.1-tkg.1", "v1.25.7+vmware.3-fips.1", "photon", "3.0"},
		{"ob-24076161-ubuntu-2204-amd64-vmi-k8s-v1.30.1---vmware.1-fips-tkg.5", "v1.30.1---vmware.1-fips-tkg.5",
			"v1.30.1+vmware.1-fips-tkg.5", "v1.30.1+vmware.1-fips", "ubuntu", "22.04"},
		{"ob-23661201-photon-5-amd64-vmi-k8s-v1.28.8---vmware.1-fips.1-tkg.2", "v1.28.8---vmware.1-fips.1-tkg.2",
			"v1.28.8+vmware.1-fips.1-tkg.2", "v1.28.8+vmware.1-fips.1", "photon", "5.0"},
		// The first vSphere 8 release.
		{"ubuntu-2004-amd64-vmi-k8s-v1.23.8---vmware.2-tkg.2-zshippable", "v1.23.8---vmware.2-tkg.2-zshippable",
			"v1.23.8+vmware.2-tkg.2-zshippable", "v1.23.8+vmware.2", "ubuntu", "20.04"},
		// VKr: no vmi-k8s- token, -vkr.N.
		{"ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1", "v1.30.8---vmware.1-fips-vkr.1",
			"v1.30.8+vmware.1-fips-vkr.1", "v1.30.8+vmware.1-fips", "ubuntu", "22.04"},
		{"photon-5-amd64-v1.34.1---vmware.1-vkr.4", "v1.34.1---vmware.1-vkr.4",
			"v1.34.1+vmware.1-vkr.4", "v1.34.1+vmware.1", "photon", "5.0"},
		// A local library renamed without the ob- prefix, or with "+".
		{"photon-3-k8s-v1.18.19+vmware.1-tkg.1.17af790", "v1.18.19---vmware.1-tkg.1.17af790",
			"v1.18.19+vmware.1-tkg.1.17af790", "v1.18.19+vmware.1", "photon", "3.0"},
	}
	for _, c := range cases {
		img, ok := Parse(c.item)
		if !ok {
			t.Errorf("Parse(%q) found no release", c.item)
			continue
		}
		if img.Release != c.release || img.Version() != c.version || img.KubernetesVersion() != c.kubernetes ||
			img.OSName != c.osName || img.OSVersion != c.osVersion || img.Item != c.item {
			t.Errorf("Parse(%q) = %+v (version %s, kubernetes %s), want %s %s %s %s %s", c.item, img, img.Version(),
				img.KubernetesVersion(), c.release, c.version, c.kubernetes, c.osName, c.osVersion)
		}
		if Name(img.Version()) != img.Release {
			t.Errorf("Name(%s) = %s, want %s", img.Version(), Name(img.Version()), img.Release)
		}
	}
}

// Images that carry no Tanzu release are not taken for one.
func TestParseRefusesOtherImages(t *testing.T) {
	for _, item := range []string{"ubuntu-22.04-server", "ubuntu-2004-kube-v1.23.8+vmware.3", "photon-3-k8s-v1.18", "my-vm-v1.2.3", ""} {
		if img, ok := Parse(item); ok {
			t.Errorf("Parse(%q) = %+v, want no release", item, img)
		}
	}
}

// A manifest may leave out the leading v of a full version.
func TestNameAddsTheLeadingV(t *testing.T) {
	if got := Name("1.20.12+vmware.1-tkg.1.b9a42f3"); got != "v1.20.12---vmware.1-tkg.1.b9a42f3" {
		t.Errorf("Name = %q", got)
	}
	if got := UpstreamVersion("v1.30.1+vmware.1-fips-tkg.5"); got != "v1.30.1" {
		t.Errorf("UpstreamVersion = %q", got)
	}
}

// vSphere's prefix labels of a release.
func TestPrefixLabels(t *testing.T) {
	got := strings.Join(PrefixLabels("v1.24.9---vmware.1-tkg.4"), " ")
	if want := "v1 v1.24 v1.24.9 v1.24.9---vmware v1.24.9---vmware.1 v1.24.9---vmware.1-tkg v1.24.9---vmware.1-tkg.4"; got != want {
		t.Errorf("PrefixLabels = %s, want %s", got, want)
	}
}
