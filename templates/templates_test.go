package templates

import (
	"fmt"
	"strings"
	"testing"
)

// parseRelease splits a release into its upstream minor and patch, checking
// the shape vSphere's releases have: v1.<minor>.<patch>+vmware.N-tkg.N,
// with the upstream version as the prefix before "+".
func parseRelease(t *testing.T, r Release) (minor, patch int) {
	t.Helper()
	var major, vmware, tkg int
	if n, err := fmt.Sscanf(r.Version, "v%d.%d.%d+vmware.%d-tkg.%d", &major, &minor, &patch, &vmware, &tkg); err != nil || n != 5 || major != 1 {
		t.Fatalf("release %q is not of the form v1.<minor>.<patch>+vmware.N-tkg.N: %v", r.Version, err)
	}
	if want := fmt.Sprintf("v1.%d.%d", minor, patch); r.KubernetesVersion != want || !strings.HasPrefix(r.Version, want+"+") {
		t.Errorf("release %s: Kubernetes version %q, want %q", r.Version, r.KubernetesVersion, want)
	}
	return minor, patch
}

// The shipped releases are sorted oldest first, one per minor with no gap
// from the seed's v1.18 to the newest Cluster API v1.14 supports, v1.37;
// the newest is the last.
func TestReleasesCoverEveryMinorOnce(t *testing.T) {
	const seedMinor, newestMinor = 18, 37
	names := map[string]bool{}
	for i, r := range Releases {
		minor, _ := parseRelease(t, r)
		if want := seedMinor + i; minor != want {
			t.Fatalf("release %d is %s, want a v1.%d release (sorted, one per minor, no gap)", i, r.Version, want)
		}
		if names[r.ObjectName()] || names[r.ImageName()] {
			t.Errorf("release %s: object or image name used twice", r.Version)
		}
		names[r.ObjectName()], names[r.ImageName()] = true, true
	}
	if newest, _ := parseRelease(t, Newest()); newest != newestMinor || Newest() != Releases[len(Releases)-1] {
		t.Errorf("the newest release is %s, want the v1.%d one, last in Releases", Newest().Version, newestMinor)
	}
	if Releases[0].Version != "v1.18.20+vmware.1-tkg.1" {
		t.Errorf("the seed manifest's release v1.18.20+vmware.1-tkg.1 is gone: first is %s", Releases[0].Version)
	}
}

// Object and image names are what vSphere names them: "+" spelt "---".
func TestReleaseNames(t *testing.T) {
	r := Newest()
	if got, want := r.ObjectName(), strings.ReplaceAll(r.Version, "+", "---"); got != want {
		t.Errorf("ObjectName() = %q, want %q", got, want)
	}
	if got := r.ImageName(); got != "photon-3-k8s-"+r.ObjectName() {
		t.Errorf("ImageName() = %q", got)
	}
	ovf := string(r.NodeImageOVF())
	if !strings.Contains(ovf, "<FullVersion>"+r.Version+"</FullVersion>") || !strings.Contains(ovf, "<Version>"+r.KubernetesVersion+"</Version>") {
		t.Errorf("the node image descriptor does not carry the release's versions:\n%s", ovf)
	}
}
