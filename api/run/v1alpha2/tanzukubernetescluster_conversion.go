package v1alpha2

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/open-supervisor/supervisor/api/run/internal/conversiondata"
	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// spokeData is what v1alpha2 says and v1alpha3 cannot: the deprecated
// distribution, with the control-plane release it was written with.
type spokeData struct {
	Distribution    Distribution `json:"distribution"`
	ControlPlaneTKR string       `json:"controlPlaneTKR,omitempty"`
}

// hubData is what v1alpha3 says and v1alpha2 cannot.
type hubData struct {
	Spec v1alpha3.TanzuKubernetesClusterSpec `json:"spec"`
	// VMStatus and NodeStatus of the hub's status (v1alpha1's fields,
	// which v1alpha2 does not show).
	VMStatus   map[string]v1alpha3.VirtualMachineState `json:"vmStatus,omitempty"`
	NodeStatus map[string]v1alpha3.NodeStatus          `json:"nodeStatus,omitempty"`
}

// ConvertTo converts this TanzuKubernetesCluster to the v1alpha3 hub.
func (src *TanzuKubernetesCluster) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha3.TanzuKubernetesCluster)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	if err := rules.CopyJSON(src.Spec, &dst.Spec); err != nil {
		return err
	}
	if err := rules.CopyJSON(src.Status, &dst.Status); err != nil {
		return err
	}
	var restored hubData
	ok, err := conversiondata.Unmarshal(dst, conversiondata.HubAnnotation, &restored)
	if err != nil {
		return err
	}
	if ok {
		restoreFailureDomains(dst.Spec.Topology.NodePools, restored.Spec.Topology.NodePools)
		dst.Status.VMStatus, dst.Status.NodeStatus = restored.VMStatus, restored.NodeStatus
	}
	if src.Spec.Distribution == (Distribution{}) {
		return nil
	}
	return conversiondata.Marshal(dst, conversiondata.SpokeAnnotation(GroupVersion.Version), spokeData{
		Distribution:    src.Spec.Distribution,
		ControlPlaneTKR: tkrName(src.Spec.Topology.ControlPlane.TKR),
	})
}

// ConvertFrom converts the v1alpha3 hub to this version.
func (dst *TanzuKubernetesCluster) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha3.TanzuKubernetesCluster)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	if err := rules.CopyJSON(src.Spec, &dst.Spec); err != nil {
		return err
	}
	if err := rules.CopyJSON(src.Status, &dst.Status); err != nil {
		return err
	}
	var restored spokeData
	ok, err := conversiondata.Unmarshal(dst, conversiondata.SpokeAnnotation(GroupVersion.Version), &restored)
	if err != nil {
		return err
	}
	if ok {
		dst.Spec.Distribution = restoredDistribution(restored, tkrName(dst.Spec.Topology.ControlPlane.TKR))
	}
	// Keep the hub's spec and node states only if this version would lose
	// some of them.
	back := &v1alpha3.TanzuKubernetesCluster{}
	if err := dst.DeepCopy().ConvertTo(back); err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(back.Spec, src.Spec) && len(src.Status.VMStatus) == 0 && len(src.Status.NodeStatus) == 0 {
		return nil
	}
	return conversiondata.Marshal(dst, conversiondata.HubAnnotation,
		hubData{Spec: src.Spec, VMStatus: src.Status.VMStatus, NodeStatus: src.Status.NodeStatus})
}

// restoredDistribution is the distribution v1alpha2 last wrote, unless the
// release changed since through another version: then fullVersion follows
// the release and the hint stays only if it still matches.
func restoredDistribution(d spokeData, controlPlaneTKR string) Distribution {
	if d.ControlPlaneTKR == controlPlaneTKR {
		return d.Distribution
	}
	out := Distribution{Version: rules.ReleaseVersion(controlPlaneTKR)}
	if rules.HintMatches(d.Distribution.VersionHint, out.Version) {
		out.VersionHint = d.Distribution.VersionHint
	}
	return out
}

func restoreFailureDomains(pools, restored []v1alpha3.NodePool) {
	for i := range pools {
		for _, r := range restored {
			if r.Name == pools[i].Name {
				pools[i].FailureDomain = r.FailureDomain
			}
		}
	}
}

func tkrName(t TKRReference) string {
	if t.Reference == nil {
		return ""
	}
	return t.Reference.Name
}
