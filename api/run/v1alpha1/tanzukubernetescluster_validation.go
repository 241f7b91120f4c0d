package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// ValidateCreate checks a defaulted cluster against the facts of its
// namespace.
func (c *TanzuKubernetesCluster) ValidateCreate(f rules.Facts) field.ErrorList {
	spec := field.NewPath("spec")
	top := spec.Child("topology")
	cp, workers := c.Spec.Topology.ControlPlane, c.Spec.Topology.Workers
	errs := rules.ValidateControlPlaneCount(top.Child("controlPlane", "count"), cp.Count)
	errs = append(errs, rules.ValidateWorkerCount(top.Child("workers", "count"), workers.Count)...)
	errs = append(errs, validatePool(top.Child("controlPlane"), cp, f)...)
	errs = append(errs, validatePool(top.Child("workers"), workers, f)...)
	errs = append(errs, validateDistribution(spec.Child("distribution"), c.Spec.Distribution, f.Releases)...)
	if v := c.Spec.Distribution.Version; v != "" {
		errs = append(errs, rules.ValidateOSImage(c.Annotations, []string{rules.ReleaseName(v)}, f.Releases)...)
	}
	return append(errs, rules.ValidateSettings(spec.Child("settings"), c.Spec.Settings, f)...)
}

// ValidateUpdate checks a change: the new object must be valid, its network
// settings keep what rules.ValidateSettingsUpdate makes immutable and the
// version moves only forward, one minor at a time.
func (c *TanzuKubernetesCluster) ValidateUpdate(old *TanzuKubernetesCluster, f rules.Facts) field.ErrorList {
	errs := c.ValidateCreate(f)
	errs = append(errs, rules.ValidateSettingsUpdate(field.NewPath("spec", "settings"), old.Spec.Settings, c.Spec.Settings)...)
	return append(errs, rules.ValidateUpgrade(field.NewPath("spec", "distribution", "fullVersion"),
		old.Spec.Distribution.Version, c.Spec.Distribution.Version)...)
}

func validatePool(path *field.Path, p TopologySettings, f rules.Facts) field.ErrorList {
	errs := rules.ValidateVMClass(path.Child("class"), p.Class, f.VMClasses)
	errs = append(errs, rules.ValidateStorageClass(path.Child("storageClass"), p.StorageClass, f.StorageClasses)...)
	return append(errs, v1alpha3.ValidateVolumes(path.Child("volumes"), volumesToHub(p.Volumes), f)...)
}

func validateDistribution(path *field.Path, d Distribution, releases []rules.Release) field.ErrorList {
	if d.Version == "" {
		if d.VersionHint == "" {
			return field.ErrorList{field.Required(path.Child("version"), "no TanzuKubernetesRelease is available")}
		}
		err := field.NotFound(path.Child("version"), d.VersionHint)
		err.Detail = "no compatible TanzuKubernetesRelease matches this version"
		return field.ErrorList{err}
	}
	if _, ok := rules.ByVersion(d.Version, releases); !ok {
		return field.ErrorList{field.NotFound(path.Child("fullVersion"), d.Version)}
	}
	return rules.ValidateHint(path.Child("version"), d.VersionHint, d.Version)
}
