package v1alpha3

import (
	"path"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/api/run/rules"
)

// ValidateCreate checks a defaulted cluster against the facts of its
// namespace.
func (c *TanzuKubernetesCluster) ValidateCreate(f rules.Facts) field.ErrorList {
	spec := field.NewPath("spec")
	top := spec.Child("topology")
	cp := c.Spec.Topology.ControlPlane
	cpPath := top.Child("controlPlane")
	var errs field.ErrorList
	if cp.Replicas != nil {
		errs = rules.ValidateControlPlaneCount(cpPath.Child("replicas"), *cp.Replicas)
	}
	errs = append(errs, validatePool(cpPath, cp, f)...)
	if cp.TKR.Reference == nil {
		errs = append(errs, field.Required(cpPath.Child("tkr", "reference"), "no TanzuKubernetesRelease is available"))
	}
	names := sets.New[string]()
	for i, p := range c.Spec.Topology.NodePools {
		pp := top.Child("nodePools").Index(i)
		errs = append(errs, rules.ValidateUniqueName(pp.Child("name"), p.Name, names, validation.IsDNS1123Label)...)
		if p.Replicas != nil {
			errs = append(errs, rules.ValidateWorkerCount(pp.Child("replicas"), *p.Replicas)...)
		}
		errs = append(errs, validatePool(pp, p.TopologySettings, f)...)
	}
	errs = append(errs, rules.ValidateOSImage(c.Annotations, c.releaseNames(), f.Releases)...)
	return append(errs, rules.ValidateSettings(spec.Child("settings"), c.Spec.Settings, f)...)
}

// releaseNames are the releases the control plane and the pools name.
func (c *TanzuKubernetesCluster) releaseNames() []string {
	var out []string
	for _, t := range append([]TKRReference{c.Spec.Topology.ControlPlane.TKR}, poolReleases(c.Spec.Topology.NodePools)...) {
		if t.Reference != nil {
			out = append(out, t.Reference.Name)
		}
	}
	return out
}

func poolReleases(pools []NodePool) []TKRReference {
	out := make([]TKRReference, 0, len(pools))
	for _, p := range pools {
		out = append(out, p.TKR)
	}
	return out
}

// ValidateUpdate checks a change: the new object must be valid, its network
// settings keep what rules.ValidateSettingsUpdate makes immutable and every
// pool's release moves only forward, one minor at a time.
func (c *TanzuKubernetesCluster) ValidateUpdate(old *TanzuKubernetesCluster, f rules.Facts) field.ErrorList {
	errs := c.ValidateCreate(f)
	errs = append(errs, rules.ValidateSettingsUpdate(field.NewPath("spec", "settings"), old.Spec.Settings, c.Spec.Settings)...)

	top := field.NewPath("spec", "topology")
	errs = append(errs, validateUpgrade(top.Child("controlPlane"), old.Spec.Topology.ControlPlane.TKR, c.Spec.Topology.ControlPlane.TKR)...)
	for i, p := range c.Spec.Topology.NodePools {
		for _, o := range old.Spec.Topology.NodePools {
			if o.Name == p.Name {
				errs = append(errs, validateUpgrade(top.Child("nodePools").Index(i), o.TKR, p.TKR)...)
			}
		}
	}
	return errs
}

func validatePool(p *field.Path, s TopologySettings, f rules.Facts) field.ErrorList {
	errs := rules.ValidateVMClass(p.Child("vmClass"), s.VMClass, f.VMClasses)
	errs = append(errs, rules.ValidateStorageClass(p.Child("storageClass"), s.StorageClass, f.StorageClasses)...)
	if ref := s.TKR.Reference; ref != nil {
		if _, ok := rules.ByName(ref.Name, f.Releases); !ok {
			errs = append(errs, field.NotFound(p.Child("tkr", "reference", "name"), ref.Name))
		}
	}
	return append(errs, ValidateVolumes(p.Child("volumes"), s.Volumes, f)...)
}

// ValidateVolumes checks a pool's node volumes at field path at (v1alpha1's pools
// carry the same list).
func ValidateVolumes(at *field.Path, volumes []Volume, f rules.Facts) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, v := range volumes {
		vp := at.Index(i)
		errs = append(errs, rules.ValidateUniqueName(vp.Child("name"), v.Name, names, validation.IsDNS1123Label)...)
		if !path.IsAbs(v.MountPath) {
			errs = append(errs, field.Invalid(vp.Child("mountPath"), v.MountPath, "must be an absolute path"))
		}
		if q, ok := v.Capacity[corev1.ResourceStorage]; !ok || q.Sign() <= 0 {
			errs = append(errs, field.Required(vp.Child("capacity", "storage"), "a positive size"))
		}
		if v.StorageClass != "" {
			errs = append(errs, rules.ValidateStorageClass(vp.Child("storageClass"), v.StorageClass, f.StorageClasses)...)
		}
	}
	return errs
}

func validateUpgrade(p *field.Path, old, cur TKRReference) field.ErrorList {
	if old.Reference == nil || cur.Reference == nil {
		return nil
	}
	return rules.ValidateUpgrade(p.Child("tkr", "reference", "name"),
		rules.ReleaseVersion(old.Reference.Name), rules.ReleaseVersion(cur.Reference.Name))
}
