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

// Releases lists the shipped releases, oldest first: one per Kubernetes
// minor, from the v1.18 line vSphere 7 U1 users run (the seed manifest
// names it) to the newest minor the pinned Cluster API (v1.14) supports for
// workload clusters, v1.37. Releases older than v1.22 are handed to Cluster
// API as v1.22.0 (see the TKC controller's ClusterAPIVersion), since its
// kubeadm bootstrap writes no older configuration format.
//
// Each is the last upstream patch of its minor, or for minors still
// maintained when Cluster API v1.14.2 was cut, the newest patch its module
// names (its kind node images, e2e configuration and Tiltfile).
var Releases = []Release{
	{Version: "v1.18.20+vmware.1-tkg.1", KubernetesVersion: "v1.18.20"},
	{Version: "v1.19.16+vmware.1-tkg.1", KubernetesVersion: "v1.19.16"},
	{Version: "v1.20.15+vmware.1-tkg.1", KubernetesVersion: "v1.20.15"},
	{Version: "v1.21.14+vmware.1-tkg.1", KubernetesVersion: "v1.21.14"},
	{Version: "v1.22.17+vmware.1-tkg.1", KubernetesVersion: "v1.22.17"},
	{Version: "v1.23.17+vmware.1-tkg.1", KubernetesVersion: "v1.23.17"},
	{Version: "v1.24.17+vmware.1-tkg.1", KubernetesVersion: "v1.24.17"},
	{Version: "v1.25.16+vmware.1-tkg.1", KubernetesVersion: "v1.25.16"},
	{Version: "v1.26.15+vmware.1-tkg.1", KubernetesVersion: "v1.26.15"},
	{Version: "v1.27.16+vmware.1-tkg.1", KubernetesVersion: "v1.27.16"},
	{Version: "v1.28.15+vmware.1-tkg.1", KubernetesVersion: "v1.28.15"},
	{Version: "v1.29.15+vmware.1-tkg.1", KubernetesVersion: "v1.29.15"},
	{Version: "v1.30.14+vmware.1-tkg.1", KubernetesVersion: "v1.30.14"},
	{Version: "v1.31.14+vmware.1-tkg.1", KubernetesVersion: "v1.31.14"},
	{Version: "v1.32.11+vmware.1-tkg.1", KubernetesVersion: "v1.32.11"},
	{Version: "v1.33.12+vmware.1-tkg.1", KubernetesVersion: "v1.33.12"},
	{Version: "v1.34.8+vmware.1-tkg.1", KubernetesVersion: "v1.34.8"},
	{Version: "v1.35.5+vmware.1-tkg.1", KubernetesVersion: "v1.35.5"},
	{Version: "v1.36.3+vmware.1-tkg.1", KubernetesVersion: "v1.36.3"},
	{Version: "v1.37.0+vmware.1-tkg.1", KubernetesVersion: "v1.37.0"},
}

// Newest is the newest shipped release: the one a cluster naming no
// release gets, and the supervisor's own control-plane VMs' node image.
func Newest() Release { return Releases[len(Releases)-1] }

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
