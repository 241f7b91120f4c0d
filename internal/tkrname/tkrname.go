package tkrname

import (
	"regexp"
	"strings"
)

// Image is what a content library item's name says about its node image.
type Image struct {
	// Item is the library item's name.
	Item string
	// Release is the TanzuKubernetesRelease name the item carries,
	// v1.20.7---vmware.1-tkg.1.7fb9067.
	Release string
	// OSName and OSVersion are the node's operating system, from the
	// name's OS token (photon-3 → photon 3.0, ubuntu-2204 → ubuntu 22.04);
	// photon 3.0 when the name has none, as vSphere's legacy TKRs default.
	OSName, OSVersion string
}

// Version is the release's version: its name with "---" spelt "+".
func (i Image) Version() string { return Version(i.Release) }

// KubernetesVersion is the Kubernetes build the image's kubelet runs.
func (i Image) KubernetesVersion() string { return KubernetesVersion(i.Version()) }

// releaseInName finds the release at the end of an item name: a version
// v<major>.<minor>.<patch> with VMware's build ("---" or "+" then the
// build), which vSphere's items always end with. The build must hold a
// -tkg.N or -vkr.N part, so that images that carry no Tanzu release (a VM
// service image "ubuntu-22.04-v1.2.3", a TKGm image "…-kube-v1.23.8+vmware.3")
// are not taken for one.
var releaseInName = regexp.MustCompile(`(?:^|-)(v\d+\.\d+\.\d+(?:---|\+)[0-9A-Za-z.-]*-(?:tkg|vkr)\.\d+[0-9A-Za-z.-]*)$`)

// osInName finds the OS token before the release: photon-3, photon-5,
// ubuntu-2004, ubuntu-2204, ubuntu-2404.
var osInName = regexp.MustCompile(`(?:^|-)(photon|ubuntu)-(\d+)(?:-|$)`)

// Parse reads an item name; ok is false when the name carries no release.
func Parse(item string) (img Image, ok bool) {
	m := releaseInName.FindStringSubmatch(item)
	if m == nil {
		return Image{}, false
	}
	img = Image{Item: item, Release: Name(m[1]), OSName: "photon", OSVersion: "3.0"}
	prefix := strings.TrimSuffix(item, m[1])
	if o := osInName.FindStringSubmatch(prefix); o != nil {
		img.OSName, img.OSVersion = o[1], osVersion(o[1], o[2])
	}
	if strings.HasSuffix(img.Release, ".ubuntu") {
		// vSphere's legacy Ubuntu twins are named "<photon twin>.ubuntu".
		img.OSName = "ubuntu"
	}
	return img, true
}

// osVersion spells an item's OS version as vSphere's OS labels do:
// photon 3 → 3.0, ubuntu 2204 → 22.04.
func osVersion(name, v string) string {
	if name == "ubuntu" && len(v) == 4 {
		return v[:2] + "." + v[2:]
	}
	if !strings.Contains(v, ".") {
		return v + ".0"
	}
	return v
}

// Name is the TanzuKubernetesRelease name of a version: object names may
// not hold "+", so it is spelt "---", and the leading "v" is added when a
// manifest leaves it out (1.20.12+vmware.1-tkg.1.b9a42f3), as
// tanzu-framework's TKRName does.
func Name(version string) string {
	return "v" + strings.ReplaceAll(strings.TrimPrefix(version, "v"), "+", "---")
}

// Version is the version a TanzuKubernetesRelease name stands for.
func Version(name string) string { return strings.ReplaceAll(name, "---", "+") }

// KubernetesVersion is the Kubernetes build of a release version: the
// version without its -tkg.N… or -vkr.N… tail (v1.20.7+vmware.1 for
// v1.20.7+vmware.1-tkg.1.7fb9067, v1.30.1+vmware.1-fips for
// v1.30.1+vmware.1-fips-tkg.5), which is what vSphere's OSImages and the
// nodes' kubelets report. A version without such a tail is its own build.
func KubernetesVersion(version string) string {
	for _, tail := range []string{"-tkg.", "-vkr."} {
		if i := strings.LastIndex(version, tail); i > 0 && strings.Contains(version[:i], "+") {
			return version[:i]
		}
	}
	return version
}

// UpstreamVersion is the upstream Kubernetes version of a release or build
// version, without VMware's build: v1.20.7.
func UpstreamVersion(version string) string {
	v, _, _ := strings.Cut(version, "+")
	return v
}

// PrefixLabels are the label keys vSphere puts on a release for every
// version prefix of its name, so `kubectl get tkr -l v1.24` selects a line:
// v1, v1.24, v1.24.9, v1.24.9---vmware, v1.24.9---vmware.1,
// v1.24.9---vmware.1-tkg and v1.24.9---vmware.1-tkg.4 for
// v1.24.9---vmware.1-tkg.4. Prefixes end before a "." or "-" ("---", the
// spelt "+", counts as one).
func PrefixLabels(name string) []string {
	var out []string
	for i := 1; i < len(name); i++ {
		if (name[i] == '.' || name[i] == '-') && name[i-1] != '-' {
			out = append(out, name[:i])
		}
	}
	return append(out, name)
}
