package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

func topologyToHub(spec TanzuKubernetesClusterSpec) v1alpha3.Topology {
	return v1alpha3.Topology{
		ControlPlane: poolToHub(spec.Topology.ControlPlane, spec.Distribution.Version),
		NodePools: []v1alpha3.NodePool{{
			Name:             WorkersPoolName,
			TopologySettings: poolToHub(spec.Topology.Workers, spec.Distribution.Version),
		}},
	}
}

func poolToHub(p TopologySettings, fullVersion string) v1alpha3.TopologySettings {
	return v1alpha3.TopologySettings{
		Replicas:     ptr.To(p.Count),
		VMClass:      p.Class,
		StorageClass: p.StorageClass,
		Volumes:      volumesToHub(p.Volumes),
		TKR:          releaseRef(fullVersion),
	}
}

func volumesToHub(in []Volume) []v1alpha3.Volume {
	if in == nil {
		return nil
	}
	out := make([]v1alpha3.Volume, 0, len(in))
	for _, v := range in {
		out = append(out, v1alpha3.Volume{Name: v.Name, MountPath: v.MountPath, Capacity: v.Capacity.DeepCopy(), StorageClass: v.StorageClass})
	}
	return out
}

func volumesFromHub(in []v1alpha3.Volume) []Volume {
	if in == nil {
		return nil
	}
	out := make([]Volume, 0, len(in))
	for _, v := range in {
		out = append(out, Volume{Name: v.Name, MountPath: v.MountPath, Capacity: v.Capacity.DeepCopy(), StorageClass: v.StorageClass})
	}
	return out
}

// topologyFromHub keeps the control plane and the first node pool; the
// release is the control plane's.
func topologyFromHub(t v1alpha3.Topology) (Topology, Distribution) {
	out := Topology{ControlPlane: poolFromHub(t.ControlPlane)}
	if len(t.NodePools) > 0 {
		out.Workers = poolFromHub(t.NodePools[0].TopologySettings)
	}
	return out, Distribution{Version: rules.ReleaseVersion(releaseName(t.ControlPlane.TKR))}
}

func poolFromHub(p v1alpha3.TopologySettings) TopologySettings {
	return TopologySettings{Count: ptr.Deref(p.Replicas, 0), Class: p.VMClass, StorageClass: p.StorageClass, Volumes: volumesFromHub(p.Volumes)}
}

// mergeTopology returns the hub topology a v1alpha1 object came from, with
// what v1alpha1 changed in it: counts, classes, volumes and the release.
// Labels, taints, further pools and per-pool releases stay.
func mergeTopology(converted, restored v1alpha3.Topology, spec TanzuKubernetesClusterSpec) v1alpha3.Topology {
	was, wasDist := topologyFromHub(restored)
	if equality.Semantic.DeepEqual(was, spec.Topology) && wasDist.Version == spec.Distribution.Version {
		return restored
	}
	if len(restored.NodePools) == 0 {
		restored.NodePools = converted.NodePools
	}
	mergePool(&restored.ControlPlane, spec.Topology.ControlPlane)
	mergePool(&restored.NodePools[0].TopologySettings, spec.Topology.Workers)
	// A release changed in v1alpha1 moves the control plane and every pool
	// that was on the control plane's release; pools deliberately on
	// another release stay there.
	oldRelease := releaseName(restored.ControlPlane.TKR)
	newRelease := releaseRef(spec.Distribution.Version)
	if releaseName(newRelease) != oldRelease {
		restored.ControlPlane.TKR = newRelease
		for i := range restored.NodePools {
			if p := &restored.NodePools[i]; releaseName(p.TKR) == oldRelease {
				p.TKR = newRelease
			}
		}
	}
	return restored
}

func mergePool(dst *v1alpha3.TopologySettings, src TopologySettings) {
	if ptr.Deref(dst.Replicas, 0) != src.Count {
		dst.Replicas = ptr.To(src.Count)
	}
	dst.VMClass, dst.StorageClass = src.Class, src.StorageClass
	dst.Volumes = volumesToHub(src.Volumes)
}
