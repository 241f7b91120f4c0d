package templates

import (
	"strings"
	"testing"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/internal/tkrname"
)

// The seeded releases are sorted oldest first by version, each minor from
// the seed's v1.18 to the newest Cluster API v1.14 supports (v1.37) has
// one, and the newest is the last.
func TestReleasesCoverEveryMinor(t *testing.T) {
	const seedMinor, newestMinor = 18, 37
	minors := map[uint64]bool{}
	for i, r := range Releases {
		v, err := rules.ParseVersion(r.Version)
		if err != nil {
			t.Fatalf("release %s: %v", r.Version, err)
		}
		minors[v.Minor()] = true
		if i > 0 {
			prev, _ := rules.ParseVersion(Releases[i-1].Version)
			if v.Compare(prev) <= 0 {
				t.Errorf("release %s is not newer than %s before it", r.Version, Releases[i-1].Version)
			}
		}
		if !strings.HasPrefix(r.Version, r.KubernetesVersion) || !strings.Contains(r.KubernetesVersion, "+vmware.") {
			t.Errorf("release %s: Kubernetes build %q", r.Version, r.KubernetesVersion)
		}
	}
	for m := uint64(seedMinor); m <= newestMinor; m++ {
		if !minors[m] {
			t.Errorf("no v1.%d release", m)
		}
	}
	if v, _ := rules.ParseVersion(Newest().Version); v.Minor() != newestMinor {
		t.Errorf("the newest release is %s, want a v1.%d one", Newest().Version, newestMinor)
	}
}

// VMware's published releases that public manifests name are seeded, with
// their names, versions and both OSes where both were published.
func TestPublishedReleasesAreSeeded(t *testing.T) {
	byName := map[string]Release{}
	for _, r := range Releases {
		byName[r.ObjectName()] = r
	}
	for name, oses := range map[string][]string{
		"v1.18.19---vmware.1-tkg.1.17af790":   {"photon"},
		"v1.20.7---vmware.1-tkg.1.7fb9067":    {"photon"},
		"v1.22.9---vmware.1-tkg.1.cc71bc8":    {"photon"},
		"v1.23.8---vmware.3-tkg.1":            {"photon"},
		"v1.23.8---vmware.3-tkg.1.ubuntu":     {"ubuntu"},
		"v1.24.9---vmware.1-tkg.4":            {"photon", "ubuntu"},
		"v1.30.1---vmware.1-fips-tkg.5":       {"photon", "ubuntu"},
		"v1.30.8---vmware.1-fips-vkr.1":       {"photon", "ubuntu"},
		"v1.23.8---vmware.2-tkg.2-zshippable": {"photon", "ubuntu"},
	} {
		r, ok := byName[name]
		if !ok {
			t.Errorf("release %s is not seeded", name)
			continue
		}
		if r.Version != tkrname.Version(name) {
			t.Errorf("release %s: version %s", name, r.Version)
		}
		var got []string
		for _, item := range r.Images {
			img, _ := tkrname.Parse(item)
			got = append(got, img.OSName)
		}
		if strings.Join(got, ",") != strings.Join(oses, ",") {
			t.Errorf("release %s: images of %v, want %v", name, got, oses)
		}
	}
	if name := "v1.20.7---vmware.1-tkg.1.7fb9067"; byName[name].ImageName() != "ob-18186591-photon-3-k8s-"+name {
		t.Errorf("release %s: image %s, want VMware's item name", name, byName[name].ImageName())
	}
}

// The node image descriptor carries the release its item name says.
func TestNodeImageOVF(t *testing.T) {
	item := "ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1"
	ovf := string(NodeImageOVF(item))
	for _, want := range []string{"<FullVersion>v1.30.8+vmware.1-fips-vkr.1</FullVersion>", "<Version>v1.30.8+vmware.1-fips</Version>",
		`vmw:osType="ubuntu64Guest"`, "<Name>" + item + "</Name>"} {
		if !strings.Contains(ovf, want) {
			t.Errorf("the descriptor of %s lacks %s:\n%s", item, want, ovf)
		}
	}
}
