package templates

import (
	"bytes"
	_ "embed"
	"text/template"

	// templates holds data only; it reads the item names it ships through
	// the same pure parser the library sync and the controllers use, so
	// the seed and what the supervisor derives from it cannot disagree.
	"github.com/open-supervisor/supervisor/internal/tkrname"
)

//go:embed node-image.ovf
var nodeImageOVF string

var nodeImageTemplate = template.Must(template.New("ovf").Parse(nodeImageOVF))

// NodeImages are the items the embedded vCenter's content library is
// seeded with, as vSphere's subscribed library
// (wp-content.vmware.com/v2/latest/lib.json) names them: one item per
// published node image, so the supervisor derives the same
// TanzuKubernetesReleases from it as vSphere does. Oldest release first;
// within a release, Photon before Ubuntu (Photon is vSphere's default OS).
//
// The release names and versions are VMware's published ones
// (../shared/reference/tkr-releases.md §1), every Supervisor release from
// v1.18 on, Photon and Ubuntu where both were published. Items keep their
// published "ob-<build>-" prefix where it was seen; the others are named as
// a local library renames them, without it (vSphere derives the release
// from the name's tail either way). Where the item was published under
// another name than its release (the first vSphere 8 release's item says
// "tkg.1-zshippable", its TKR "tkg.2-zshippable"), the item carries the
// release's name, since ours derive from the item.
//
// The v1.36 and v1.37 items are ours, not VMware's: no published release
// is known for them, and v1.37 is the newest minor the pinned Cluster API
// (v1.14) supports, the release a cluster naming none gets. They keep a
// VMware-shaped name (VKr form, vmware.1-vkr.1).
var NodeImages = []string{
	// v1.18: the seed manifest's "v1.18" resolves to the newest, v1.18.19.
	"ob-16924026-photon-3-k8s-v1.18.5---vmware.1-tkg.1.c40d30d",
	"ob-17419070-photon-3-k8s-v1.18.10---vmware.1-tkg.1.3a6cd48",
	"ob-17654937-photon-3-k8s-v1.18.15---vmware.1-tkg.1.600e412",
	"photon-3-k8s-v1.18.15---vmware.1-tkg.2.ebf6117",
	"ob-18284400-photon-3-k8s-v1.18.19---vmware.1-tkg.1.17af790",
	// v1.19
	"ob-17660956-photon-3-k8s-v1.19.7---vmware.1-tkg.1.fc82c41",
	"photon-3-k8s-v1.19.7---vmware.1-tkg.2.f52f85a",
	"photon-3-k8s-v1.19.11---vmware.1-tkg.1.9d9b236",
	"photon-3-k8s-v1.19.14---vmware.1-tkg.1.8753786",
	"photon-3-k8s-v1.19.16---vmware.1-tkg.1.df910e2",
	// v1.20
	"ob-17861429-photon-3-k8s-v1.20.2---vmware.1-tkg.1.1d4f79a",
	"photon-3-k8s-v1.20.2---vmware.1-tkg.2.3e10706",
	"ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067",
	"ob-18691651-tkgs-ova-ubuntu-2004-v1.20.8---vmware.1-tkg.2",
	"photon-3-k8s-v1.20.9---vmware.1-tkg.1.a4cee5b",
	"photon-3-k8s-v1.20.12---vmware.1-tkg.1.b9a42f3",
	// v1.21: the legacy Ubuntu twin drops the commit suffix.
	"photon-3-k8s-v1.21.2---vmware.1-tkg.1.ee25d55",
	"tkgs-ova-ubuntu-2004-v1.21.6---vmware.1-tkg.1",
	"photon-3-k8s-v1.21.6---vmware.1-tkg.1.b3d708a",
	// v1.22
	"tkgs-ova-ubuntu-2004-v1.22.9---vmware.1-tkg.1",
	"ob-19930037-photon-3-k8s-v1.22.9---vmware.1-tkg.1.cc71bc8",
	// v1.23: the first vSphere 8 release (one item per OS), then legacy
	// twins spelt "<photon>.ubuntu".
	"photon-3-amd64-vmi-k8s-v1.23.8---vmware.2-tkg.2-zshippable",
	"ubuntu-2004-amd64-vmi-k8s-v1.23.8---vmware.2-tkg.2-zshippable",
	"photon-3-k8s-v1.23.8---vmware.3-tkg.1",
	"tkgs-ova-ubuntu-2004-v1.23.8---vmware.3-tkg.1.ubuntu",
	"photon-3-amd64-vmi-k8s-v1.23.15---vmware.1-tkg.4",
	"ob-21554036-ubuntu-2004-amd64-vmi-k8s-v1.23.15---vmware.1-tkg.4",
	// v1.24
	"ob-21554409-photon-3-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4",
	"ob-21552850-ubuntu-2004-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4",
	"photon-3-k8s-v1.24.11---vmware.1-fips.1-tkg.1",
	"tkgs-ova-ubuntu-2004-v1.24.11---vmware.1-fips.1-tkg.1.ubuntu",
	// v1.25
	"ob-21961086-photon-3-amd64-vmi-k8s-v1.25.7---vmware.3-fips.1-tkg.1",
	"ob-21961079-ubuntu-2004-amd64-vmi-k8s-v1.25.7---vmware.3-fips.1-tkg.1",
	"photon-3-k8s-v1.25.13---vmware.1-fips.1-tkg.1",
	"tkgs-ova-ubuntu-2004-v1.25.13---vmware.1-fips.1-tkg.1.ubuntu",
	// v1.26
	"photon-3-amd64-vmi-k8s-v1.26.5---vmware.2-fips.1-tkg.1",
	"ob-22187091-ubuntu-2004-amd64-vmi-k8s-v1.26.5---vmware.2-fips.1-tkg.1",
	"photon-3-k8s-v1.26.10---vmware.1-fips.1-tkg.1",
	"tkgs-ova-ubuntu-2004-v1.26.10---vmware.1-fips.1-tkg.1.ubuntu",
	"photon-3-k8s-v1.26.12---vmware.2-fips.1-tkg.2",
	"tkgs-ova-ubuntu-2004-v1.26.12---vmware.2-fips.1-tkg.2.ubuntu",
	"photon-3-amd64-vmi-k8s-v1.26.13---vmware.1-fips.1-tkg.3",
	"ubuntu-2004-amd64-vmi-k8s-v1.26.13---vmware.1-fips.1-tkg.3",
	// v1.27
	"photon-3-k8s-v1.27.6---vmware.1-fips.1-tkg.1",
	"tkgs-ova-ubuntu-2004-v1.27.6---vmware.1-fips.1-tkg.1.ubuntu",
	"photon-3-k8s-v1.27.10---vmware.1-fips.1-tkg.1",
	"tkgs-ova-ubuntu-2004-v1.27.10---vmware.1-fips.1-tkg.1.ubuntu",
	"photon-3-amd64-vmi-k8s-v1.27.11---vmware.1-fips.1-tkg.2",
	"ubuntu-2204-amd64-vmi-k8s-v1.27.11---vmware.1-fips.1-tkg.2",
	// v1.28: Photon 5 and Ubuntu 22.04 from here on.
	"photon-5-k8s-v1.28.7---vmware.1-fips.1-tkg.1",
	"tkgs-ova-ubuntu-2204-v1.28.7---vmware.1-fips.1-tkg.1.ubuntu",
	"ob-23661201-photon-5-amd64-vmi-k8s-v1.28.8---vmware.1-fips.1-tkg.2",
	"ob-23661482-ubuntu-2204-amd64-vmi-k8s-v1.28.8---vmware.1-fips.1-tkg.2",
	// v1.29
	"photon-5-amd64-vmi-k8s-v1.29.4---vmware.3-fips.1-tkg.1",
	"ob-24042459-ubuntu-2204-amd64-vmi-k8s-v1.29.4---vmware.3-fips.1-tkg.1",
	// v1.30: -tkg.N becomes -vkr.N, and the vmi-k8s- token goes.
	"photon-5-amd64-vmi-k8s-v1.30.1---vmware.1-fips-tkg.5",
	"ob-24076161-ubuntu-2204-amd64-vmi-k8s-v1.30.1---vmware.1-fips-tkg.5",
	"photon-5-amd64-v1.30.8---vmware.1-fips-vkr.1",
	"ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1",
	"ob-24749206-photon-5-amd64-v1.30.11---vmware.1-fips-vkr.2",
	// v1.31
	"photon-5-amd64-v1.31.1---vmware.2-fips-vkr.2",
	"ob-24300498-ubuntu-2204-amd64-v1.31.1---vmware.2-fips-vkr.2",
	"photon-5-amd64-v1.31.4---vmware.1-fips-vkr.3",
	"ob-24536966-ubuntu-2204-amd64-v1.31.4---vmware.1-fips-vkr.3",
	"ob-24941856-photon-5-amd64-v1.31.11---vmware.3-fips-vkr.1",
	// v1.32
	"photon-5-amd64-v1.32.0---vmware.2-fips-vkr.1",
	"photon-5-amd64-v1.32.0---vmware.6-fips-vkr.2",
	"ob-24537997-ubuntu-2204-amd64-v1.32.0---vmware.6-fips-vkr.2",
	"photon-5-amd64-v1.32.3---vmware.1-fips-vkr.2",
	"ob-24945258-photon-5-amd64-v1.32.7---vmware.3-fips-vkr.1",
	"photon-5-amd64-v1.32.10---vmware.1-fips-vkr.2",
	// v1.33
	"photon-5-amd64-v1.33.1---vmware.1-fips-vkr.2",
	"photon-5-amd64-v1.33.3---vmware.1-fips-vkr.1",
	"photon-5-amd64-v1.33.6---vmware.1-fips-vkr.2",
	// v1.34: no -fips from here on.
	"photon-5-amd64-v1.34.1---vmware.1-vkr.4",
	"photon-5-amd64-v1.34.2---vmware.2-vkr.2",
	// v1.35
	"photon-5-amd64-v1.35.0---vmware.2-vkr.4",
	"photon-5-amd64-v1.35.2---vmware.1-vkr.3",
	// Ours (see above): v1.36 and v1.37, the newest and the default.
	"photon-5-amd64-v1.36.3---vmware.1-vkr.1",
	"photon-5-amd64-v1.37.0---vmware.1-vkr.1",
}

// Release is a Kubernetes release the seeded library holds node images of.
type Release struct {
	// Version is the full release version, e.g.
	// v1.20.7+vmware.1-tkg.1.7fb9067.
	Version string
	// KubernetesVersion is the Kubernetes build its kubelets run, e.g.
	// v1.20.7+vmware.1 (the version without its -tkg.N/-vkr.N tail).
	KubernetesVersion string
	// Images are its library items, Photon first.
	Images []string
}

// Releases are the releases of NodeImages, oldest first.
var Releases = releasesOf(NodeImages)

func releasesOf(items []string) []Release {
	var out []Release
	index := map[string]int{}
	for _, item := range items {
		img, ok := tkrname.Parse(item)
		if !ok {
			panic("templates: node image " + item + " names no release")
		}
		i, seen := index[img.Release]
		if !seen {
			i = len(out)
			index[img.Release] = i
			out = append(out, Release{Version: img.Version(), KubernetesVersion: img.KubernetesVersion()})
		}
		out[i].Images = append(out[i].Images, item)
	}
	return out
}

// Newest is the newest shipped release: the one a cluster naming no
// release gets, and the supervisor's own control-plane VMs' node image.
func Newest() Release { return Releases[len(Releases)-1] }

// ObjectName is the release's TanzuKubernetesRelease name: the version
// with "+" spelt "---".
func (r Release) ObjectName() string { return tkrname.Name(r.Version) }

// ImageName is the library item of the release's first (Photon) node image.
func (r Release) ImageName() string { return r.Images[0] }

// NodeImageOVF renders the OVF descriptor of a library item: the shape of
// a TanzuKubernetesRelease OVA, carrying the release its name says.
func NodeImageOVF(item string) []byte {
	img, _ := tkrname.Parse(item)
	osType := "vmwarePhoton64Guest"
	if img.OSName == "ubuntu" {
		osType = "ubuntu64Guest"
	}
	var b bytes.Buffer
	_ = nodeImageTemplate.Execute(&b, map[string]string{
		"Name":        item,
		"Product":     "Kubernetes node " + img.KubernetesVersion(),
		"Version":     img.KubernetesVersion(),
		"FullVersion": img.Version(),
		"OSType":      osType,
	})
	return b.Bytes()
}
