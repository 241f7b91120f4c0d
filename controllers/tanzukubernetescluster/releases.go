package tanzukubernetescluster

import (
	"context"
	"fmt"

	"github.com/blang/semver/v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/controllers/tanzukubernetesrelease"
	"github.com/open-supervisor/supervisor/internal/tkrname"
	"github.com/open-supervisor/supervisor/templates"
)

// ShippedReleases returns a TanzuKubernetesRelease for each release the
// embedded content library is seeded with (templates.Releases), as the
// release controller derives them from its images (without status). The
// seeded item names are valid object names already, so each image is
// published under its item's name.
func ShippedReleases() []*runv1alpha3.TanzuKubernetesRelease {
	out := make([]*runv1alpha3.TanzuKubernetesRelease, 0, len(templates.Releases))
	for _, r := range templates.Releases {
		out = append(out, &runv1alpha3.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: r.ObjectName()},
			Spec: tanzukubernetesrelease.Spec(r.ObjectName(), r.Images)})
	}
	return out
}

// CreateShippedReleases creates the ShippedReleases that do not exist yet;
// existing ones are left as they are.
func CreateShippedReleases(ctx context.Context, c client.Client) error {
	for _, r := range ShippedReleases() {
		if err := c.Create(ctx, r); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create TanzuKubernetesRelease %s: %w", r.Name, err)
		}
	}
	return nil
}

// release is what the controller needs of a TanzuKubernetesRelease.
type release struct {
	// Name of the TanzuKubernetesRelease object.
	Name string
	// Version is the full release version, v1.20.7+vmware.1-tkg.1.7fb9067.
	Version string
	// KubernetesVersion is the upstream Kubernetes version (v1.20.7),
	// without VMware's build.
	KubernetesVersion string
	// Image is the node image VMs are cloned from.
	Image string
}

// errReleaseUnusable says a release cannot be used as it is; the user has
// to pick another one or the administrator to fix it.
type errReleaseUnusable struct{ msg string }

func (e errReleaseUnusable) Error() string { return e.msg }

// minClusterAPIVersion is the oldest Kubernetes version Cluster API v1.14's
// kubeadm bootstrap provider and KubeadmControlPlane accept: they only write
// kubeadm's v1beta3 and v1beta4 configuration formats.
var minClusterAPIVersion = semver.MustParse("1.22.0")

// ClusterAPIVersion is the version Cluster API is told: the version of
// the kubelet in the release's node image, with VMware's build
// (v1.23.17+vmware.1, as Tanzu's own Cluster API objects carry it), so that
// Cluster API finds its Machines' Nodes at the version it asked for. For
// releases older than Cluster API supports (v1.18 to v1.21) it is v1.22.0:
// their VMs still boot the release's node image and their kubelets report
// the release's version (NodeVersion; the TKC's status counts such
// Machines up to date, upToDateMachines), but Cluster API writes v1.22's
// kubeadm configuration format. Rollouts between such releases still
// happen, as the node image, hence the machine template, changes.
func (r release) ClusterAPIVersion() string {
	v, err := semver.ParseTolerant(r.KubernetesVersion)
	if err == nil && v.LT(minClusterAPIVersion) {
		return "v" + minClusterAPIVersion.String()
	}
	return r.NodeVersion()
}

// NodeVersion is the kubelet version of the release's node image: the
// release version without its -tkg.N or -vkr.N tail (v1.20.7+vmware.1 for
// v1.20.7+vmware.1-tkg.1.7fb9067, v1.30.8+vmware.1-fips for
// v1.30.8+vmware.1-fips-vkr.1), what the simulated kubelets read from the
// node image's name too.
func (r release) NodeVersion() string {
	if r.Version == "" {
		return r.KubernetesVersion
	}
	return tkrname.KubernetesVersion(r.Version)
}

// getRelease reads a TanzuKubernetesRelease by name; its node image is the
// first that osSelector selects (the cluster's resolve-os-image annotation).
func getRelease(ctx context.Context, c client.Reader, name string, osSelector labels.Selector) (release, error) {
	var tkr runv1alpha3.TanzuKubernetesRelease
	if err := c.Get(ctx, client.ObjectKey{Name: name}, &tkr); err != nil {
		if apierrors.IsNotFound(err) {
			return release{}, errReleaseUnusable{fmt.Sprintf("TanzuKubernetesRelease %s does not exist", name)}
		}
		return release{}, fmt.Errorf("failed to get TanzuKubernetesRelease %s: %w", name, err)
	}
	return releaseOf(&tkr, osSelector)
}

// releaseOf checks that a release names its node image and Kubernetes
// version. The node image is its first OS image osSelector selects (nil: the first,
// which the release controller makes the Photon one, vSphere's default).
func releaseOf(tkr *runv1alpha3.TanzuKubernetesRelease, osSelector labels.Selector) (release, error) {
	// spec.kubernetes.version is the Kubernetes build (v1.20.7+vmware.1);
	// the upstream version is its part before "+", or the release
	// version's when it is empty.
	r := release{Name: tkr.Name, Version: tkr.Spec.Version, KubernetesVersion: tkrname.UpstreamVersion(tkr.Spec.Kubernetes.Version)}
	if r.KubernetesVersion == "" {
		r.KubernetesVersion = tkrname.UpstreamVersion(r.Version)
	}
	if len(tkr.Spec.OSImages) == 0 || tkr.Spec.OSImages[0].Name == "" {
		return release{}, errReleaseUnusable{fmt.Sprintf("TanzuKubernetesRelease %s names no node image (spec.osImages)", tkr.Name)}
	}
	images := make([]string, 0, len(tkr.Spec.OSImages))
	for _, img := range tkr.Spec.OSImages {
		images = append(images, img.Name)
	}
	image, ok := rules.SelectImage(images, osSelector)
	if !ok {
		return release{}, errReleaseUnusable{fmt.Sprintf("TanzuKubernetesRelease %s has no node image matching %s=%q", tkr.Name, rules.ResolveOSImageAnnotation, osSelector.String())}
	}
	r.Image = image
	return r, nil
}
