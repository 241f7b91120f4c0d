package templates

import (
	"bytes"
	_ "embed"
	"strings"
	"text/template"
)

//go:embed node-image.ovf
var nodeImageOVF string

var nodeImageTemplate = template.Must(template.New("ovf").Parse(nodeImageOVF))

// Release is a Kubernetes release the supervisor ships a node image for.
type Release struct {
	// Version is the full release version, e.g. v1.18.20+vmware.1-tkg.1.
	Version string
	// KubernetesVersion is the upstream version, e.g. v1.18.20.
	KubernetesVersion string
}

// Releases lists the shipped releases, oldest first: one per supported
// Kubernetes minor, starting with the v1.18 line vSphere 7 U1 users run.
var Releases = []Release{
	{Version: "v1.18.20+vmware.1-tkg.1", KubernetesVersion: "v1.18.20"},
	{Version: "v1.19.16+vmware.1-tkg.1", KubernetesVersion: "v1.19.16"},
	{Version: "v1.20.15+vmware.1-tkg.1", KubernetesVersion: "v1.20.15"},
	{Version: "v1.21.14+vmware.1-tkg.1", KubernetesVersion: "v1.21.14"},
	{Version: "v1.22.17+vmware.1-tkg.1", KubernetesVersion: "v1.22.17"},
	{Version: "v1.23.17+vmware.1-tkg.1", KubernetesVersion: "v1.23.17"},
}

// ObjectName is the release's Kubernetes object name: "+" is not allowed in
// names, so it becomes "---", as TanzuKubernetesRelease names do.
func (r Release) ObjectName() string { return strings.ReplaceAll(r.Version, "+", "---") }

// ImageName is the name of the release's node image in the content library.
func (r Release) ImageName() string { return "photon-3-k8s-" + r.ObjectName() }

// NodeImageOVF renders the OVF descriptor of the release's node image.
func (r Release) NodeImageOVF() []byte {
	var b bytes.Buffer
	_ = nodeImageTemplate.Execute(&b, map[string]string{
		"Name":        r.ImageName(),
		"Product":     "Kubernetes node " + r.KubernetesVersion,
		"Version":     r.KubernetesVersion,
		"FullVersion": r.Version,
	})
	return b.Bytes()
}
