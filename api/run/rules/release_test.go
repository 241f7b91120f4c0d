package rules

import "testing"

// VMware's published release names resolve: hints pick the newest release
// of their prefix, whatever suffix form (commit, .ubuntu, -fips, -vkr) it
// has, and full versions are found with or without their leading "v".
func TestPublishedReleasesResolve(t *testing.T) {
	var releases []Release
	for _, v := range []string{
		"v1.18.15+vmware.1-tkg.2.ebf6117", "v1.18.19+vmware.1-tkg.1.17af790", "v1.20.12+vmware.1-tkg.1.b9a42f3",
		"v1.23.8+vmware.2-tkg.2-zshippable", "v1.23.8+vmware.3-tkg.1", "v1.30.1+vmware.1-fips-tkg.5",
		"v1.30.8+vmware.1-fips-vkr.1", "v1.30.11+vmware.1-fips-vkr.2", "v1.34.1+vmware.1-vkr.4",
	} {
		releases = append(releases, Release{Name: ReleaseName(v), Version: v})
	}
	for hint, want := range map[string]string{
		"v1.18":                  "v1.18.19+vmware.1-tkg.1.17af790",
		"v1.18.15":               "v1.18.15+vmware.1-tkg.2.ebf6117",
		"v1.23.8+vmware.2":       "v1.23.8+vmware.2-tkg.2-zshippable",
		"v1.23.8":                "v1.23.8+vmware.3-tkg.1",
		"v1.30":                  "v1.30.11+vmware.1-fips-vkr.2",
		"v1.30.1":                "v1.30.1+vmware.1-fips-tkg.5",
		"v1.30.8+vmware.1-fips":  "v1.30.8+vmware.1-fips-vkr.1",
		"":                       "v1.34.1+vmware.1-vkr.4",
		"1.20.12+vmware.1-tkg.1": "v1.20.12+vmware.1-tkg.1.b9a42f3",
	} {
		got, err := Resolve(hint, releases)
		if err != nil || got.Version != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", hint, got.Version, err, want)
		}
	}
	if r, ok := ByVersion("1.20.12+vmware.1-tkg.1.b9a42f3", releases); !ok || r.Name != "v1.20.12---vmware.1-tkg.1.b9a42f3" {
		t.Errorf("ByVersion without the leading v = %+v, %v", r, ok)
	}
	if got := ReleaseName("1.20.12+vmware.1-tkg.1.b9a42f3"); got != "v1.20.12---vmware.1-tkg.1.b9a42f3" {
		t.Errorf("ReleaseName = %q", got)
	}
	if got := ReleaseName("v1.30.8+vmware.1-fips-vkr.1"); got != "v1.30.8---vmware.1-fips-vkr.1" || ReleaseVersion(got) != "v1.30.8+vmware.1-fips-vkr.1" {
		t.Errorf("ReleaseName = %q", got)
	}
}
