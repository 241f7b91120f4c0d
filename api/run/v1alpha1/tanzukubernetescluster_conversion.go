package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/open-supervisor/supervisor/api/run/internal/conversiondata"
	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// WorkersPoolName is the v1alpha3 node pool v1alpha1's workers become.
const WorkersPoolName = "workers"

// spokeData is what v1alpha1 says and v1alpha3 cannot.
type spokeData struct {
	VersionHint string `json:"versionHint,omitempty"`
	// FullVersion the hint was resolved to; the hint is restored only
	// while it still matches the cluster's release.
	FullVersion string `json:"fullVersion,omitempty"`
	// ClusterAPIStatus without apiEndpoints, which v1alpha3 has.
	ClusterAPIStatus     *ClusterAPIStatus `json:"clusterApiStatus,omitempty"`
	Upgrade              *UpgradeStatus    `json:"upgrade,omitempty"`
	NodeRemediationCount int               `json:"nodeRemediationCount,omitempty"`
	// NoAddons: status.addons was present and empty, which v1alpha3's
	// list cannot tell from absent (found by FuzzV1alpha1HubRoundTrip).
	NoAddons bool `json:"noAddons,omitempty"`
}

func (d spokeData) empty() bool {
	return equality.Semantic.DeepEqual(d, spokeData{FullVersion: d.FullVersion})
}

// hubData is the v1alpha3 spec and status a v1alpha1 object came from.
type hubData struct {
	Spec   v1alpha3.TanzuKubernetesClusterSpec   `json:"spec"`
	Status v1alpha3.TanzuKubernetesClusterStatus `json:"status"`
}

// ConvertTo converts this TanzuKubernetesCluster to the v1alpha3 hub:
// workers become the node pool "workers", fullVersion the release
// reference of every pool.
func (src *TanzuKubernetesCluster) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha3.TanzuKubernetesCluster)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	var restored hubData
	ok, err := conversiondata.Unmarshal(dst, conversiondata.HubAnnotation, &restored)
	if err != nil {
		return err
	}
	if err := rules.CopyJSON(src.Spec.Settings, &dst.Spec.Settings); err != nil {
		return err
	}
	dst.Spec.Topology = topologyToHub(src.Spec)
	dst.Status = statusToHub(src.Status)
	if ok {
		dst.Spec.Topology = mergeTopology(dst.Spec.Topology, restored.Spec.Topology, src.Spec)
		dst.Status = mergeStatus(dst.Status, restored.Status, src.Status)
	}
	data := spokeData{
		VersionHint:          src.Spec.Distribution.VersionHint,
		FullVersion:          src.Spec.Distribution.Version,
		Upgrade:              src.Status.Upgrade,
		NodeRemediationCount: src.Status.NodeRemediationCount,
		NoAddons:             src.Status.Addons != nil && len(dst.Status.Addons) == 0,
	}
	// v1alpha3 has the endpoints; an empty clusterApiStatus is kept too.
	if s := src.Status.ClusterAPIStatus; s != nil && (s.ErrorReason != nil || s.ErrorMessage != nil || s.Phase != "" || len(s.APIEndpoints) == 0) {
		data.ClusterAPIStatus = &ClusterAPIStatus{ErrorReason: s.ErrorReason, ErrorMessage: s.ErrorMessage, Phase: s.Phase}
	}
	if data.empty() {
		return nil
	}
	return conversiondata.Marshal(dst, conversiondata.SpokeAnnotation(GroupVersion.Version), data)
}

// ConvertFrom converts the v1alpha3 hub to this version.
func (dst *TanzuKubernetesCluster) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha3.TanzuKubernetesCluster)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	if err := rules.CopyJSON(src.Spec.Settings, &dst.Spec.Settings); err != nil {
		return err
	}
	dst.Spec.Topology, dst.Spec.Distribution = topologyFromHub(src.Spec.Topology)
	dst.Status = statusFromHub(src.Status)
	var data spokeData
	ok, err := conversiondata.Unmarshal(dst, conversiondata.SpokeAnnotation(GroupVersion.Version), &data)
	if err != nil {
		return err
	}
	if ok {
		restoreSpokeData(dst, data)
	}
	// Keep the hub's spec and status only if this version would lose some.
	back := &v1alpha3.TanzuKubernetesCluster{}
	if err := dst.DeepCopy().ConvertTo(back); err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(back.Spec, src.Spec) && equality.Semantic.DeepEqual(back.Status, src.Status) {
		return nil
	}
	return conversiondata.Marshal(dst, conversiondata.HubAnnotation, hubData{Spec: src.Spec, Status: src.Status})
}

func restoreSpokeData(dst *TanzuKubernetesCluster, data spokeData) {
	// A hint is kept while it matches: after an upgrade made through
	// another version, a stale hint would make the object invalid.
	full := dst.Spec.Distribution.Version
	if data.FullVersion == full || rules.HintMatches(data.VersionHint, full) {
		dst.Spec.Distribution.VersionHint = data.VersionHint
	}
	if c := data.ClusterAPIStatus; c != nil {
		if dst.Status.ClusterAPIStatus == nil {
			dst.Status.ClusterAPIStatus = &ClusterAPIStatus{}
		}
		dst.Status.ClusterAPIStatus.ErrorReason = c.ErrorReason
		dst.Status.ClusterAPIStatus.ErrorMessage = c.ErrorMessage
		dst.Status.ClusterAPIStatus.Phase = c.Phase
	}
	dst.Status.Upgrade = data.Upgrade
	dst.Status.NodeRemediationCount = data.NodeRemediationCount
	if data.NoAddons && dst.Status.Addons == nil {
		dst.Status.Addons = &AddonsStatuses{}
	}
}

func releaseRef(fullVersion string) v1alpha3.TKRReference {
	if fullVersion == "" {
		return v1alpha3.TKRReference{}
	}
	return v1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: rules.ReleaseName(fullVersion)}}
}

func releaseName(t v1alpha3.TKRReference) string {
	if t.Reference == nil {
		return ""
	}
	return t.Reference.Name
}
