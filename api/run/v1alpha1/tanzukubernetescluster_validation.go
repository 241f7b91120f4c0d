package v1alpha1

import (
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/api/run/rules"
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

	var n Network
	var storage Storage
	if s := c.Spec.Settings; s != nil && s.Network != nil {
		n = *s.Network
	}
	if s := c.Spec.Settings; s != nil && s.Storage != nil {
		storage = *s.Storage
	}
	var cni string
	if n.CNI != nil {
		cni = n.CNI.Name
	}
	errs = append(errs, rules.ValidateNetwork(spec.Child("settings", "network"), cni, blocks(n.Pods), blocks(n.Services), f.SupervisorNetworks)...)
	errs = append(errs, rules.ValidateProxyAndTrust(spec.Child("settings", "network"), n.Proxy, n.Trust)...)
	return append(errs, rules.ValidateStorageSettings(spec.Child("settings", "storage"), storage.Classes, storage.DefaultClass, f.StorageClasses)...)
}

// ValidateUpdate checks a change: the new object must be valid, its network
// settings are immutable (pod and service ranges and the CNI are fixed
// into every node and the CNI's state at creation) and the version moves
// only forward, one minor at a time.
func (c *TanzuKubernetesCluster) ValidateUpdate(old *TanzuKubernetesCluster, f rules.Facts) field.ErrorList {
	errs := c.ValidateCreate(f)
	network := field.NewPath("spec", "settings", "network")
	var oldN, newN Network
	if s := old.Spec.Settings; s != nil && s.Network != nil {
		oldN = *s.Network
	}
	if s := c.Spec.Settings; s != nil && s.Network != nil {
		newN = *s.Network
	}
	errs = append(errs, apivalidation.ValidateImmutableField(newN.CNI, oldN.CNI, network.Child("cni"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(blocks(newN.Pods), blocks(oldN.Pods), network.Child("pods", "cidrBlocks"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(blocks(newN.Services), blocks(oldN.Services), network.Child("services", "cidrBlocks"))...)
	errs = append(errs, apivalidation.ValidateImmutableField(newN.ServiceDomain, oldN.ServiceDomain, network.Child("serviceDomain"))...)
	return append(errs, rules.ValidateUpgrade(field.NewPath("spec", "distribution", "fullVersion"),
		old.Spec.Distribution.Version, c.Spec.Distribution.Version)...)
}

func validatePool(path *field.Path, p TopologySettings, f rules.Facts) field.ErrorList {
	errs := rules.ValidateVMClass(path.Child("class"), p.Class, f.VMClasses)
	return append(errs, rules.ValidateStorageClass(path.Child("storageClass"), p.StorageClass, f.StorageClasses)...)
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

func blocks(r *NetworkRanges) []string {
	if r == nil {
		return nil
	}
	return r.CIDRBlocks
}
