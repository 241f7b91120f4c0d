package v1alpha2

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// ValidateCreate checks a defaulted cluster: v1alpha3's rules (same fields,
// same paths) and the deprecated distribution, which must agree with the
// control plane's release.
func (c *TanzuKubernetesCluster) ValidateCreate(f rules.Facts) field.ErrorList {
	hub, err := c.hub()
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("spec"), err)}
	}
	return append(hub.ValidateCreate(f), c.validateDistribution()...)
}

// ValidateUpdate checks a change as v1alpha3 does, plus the distribution.
func (c *TanzuKubernetesCluster) ValidateUpdate(old *TanzuKubernetesCluster, f rules.Facts) field.ErrorList {
	hub, err := c.hub()
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("spec"), err)}
	}
	oldHub, err := old.hub()
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("spec"), err)}
	}
	return append(hub.ValidateUpdate(oldHub, f), c.validateDistribution()...)
}

func (c *TanzuKubernetesCluster) hub() (*v1alpha3.TanzuKubernetesCluster, error) {
	hub := &v1alpha3.TanzuKubernetesCluster{}
	return hub, c.DeepCopy().ConvertTo(hub)
}

func (c *TanzuKubernetesCluster) validateDistribution() field.ErrorList {
	path := field.NewPath("spec", "distribution")
	d := c.Spec.Distribution
	ref := c.Spec.Topology.ControlPlane.TKR.Reference
	switch {
	case d.Version == "" && d.VersionHint != "" && ref == nil:
		err := field.NotFound(path.Child("version"), d.VersionHint)
		err.Detail = "no compatible TanzuKubernetesRelease matches this version"
		return field.ErrorList{err}
	case d.Version != "" && ref != nil && rules.ReleaseName(d.Version) != ref.Name:
		return field.ErrorList{field.Invalid(path.Child("fullVersion"), d.Version,
			"does not match spec.topology.controlPlane.tkr.reference.name "+ref.Name)}
	}
	full := d.Version
	if full == "" && ref != nil {
		full = rules.ReleaseVersion(ref.Name)
	}
	return rules.ValidateHint(path.Child("version"), d.VersionHint, full)
}
