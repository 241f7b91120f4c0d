package v1alpha2

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/randfill"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// fuzzSeeds are inputs the seed corpus starts from (`make test` runs them;
// `make fuzz` grows from them).
var fuzzSeeds = [][]byte{nil, []byte("tkc"), []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), []byte("v1alpha2 node pools with labels and taints")}

// fillV1alpha2 keeps what the API server refuses out of filled objects:
// enums hold one of their values, releases are shipped ones.
var fillV1alpha2 = []any{
	func(p *TanzuKubernetesClusterPhase, c randfill.Continue) {
		*p = testfixtures.OneOf(c, PhaseEmpty, PhaseCreating, PhaseFailed, PhaseRunning, PhaseUnhealthy, PhaseUpdating, PhaseUpdateFailed, PhaseDeleting)
	},
	func(p *AddonType, c randfill.Continue) {
		*p = testfixtures.OneOf(c, AddonAuthService, AddonCNI, AddonCPI, AddonCSI, AddonDNS, AddonProxy, AddonPSP, AddonMetricsServer)
	},
	func(p *ConditionSeverity, c randfill.Continue) {
		*p = testfixtures.OneOf(c, ConditionSeverityError, ConditionSeverityWarning, ConditionSeverityInfo, ConditionSeverityNone)
	},
	// The webhook refuses two pools of one name.
	func(pools *[]NodePool, c randfill.Continue) {
		c.FillNoCustom(pools)
		*pools = testfixtures.UniqueNames(*pools, func(p NodePool) string { return p.Name })
	},
	func(r *TKRReference, c randfill.Continue) {
		*r = TKRReference{}
		if c.Bool() {
			v := testfixtures.OneOf(c, testfixtures.ReleaseVersions()...)
			r.Reference = &corev1.ObjectReference{Name: rules.ReleaseName(v)}
		}
	},
}

// validDistribution makes the deprecated distribution agree with the
// control plane's release, as the webhook demands.
func validDistribution(c *TanzuKubernetesCluster, choice byte) {
	c.Spec.Distribution = Distribution{}
	ref := c.Spec.Topology.ControlPlane.TKR.Reference
	if ref == nil {
		return
	}
	if choice&1 != 0 {
		c.Spec.Distribution.Version = rules.ReleaseVersion(ref.Name)
	}
	if choice&2 != 0 {
		c.Spec.Distribution.VersionHint = strings.Join(strings.SplitN(rules.ReleaseVersion(ref.Name), ".", 3)[:2], ".")
	}
}

// Any v1alpha2 object the API server could store converts to the hub and
// back without loss, or is refused with an error; never a panic.
func FuzzV1alpha2HubRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &TanzuKubernetesCluster{}
		testfixtures.Filler(data, fillV1alpha2...).Fill(in)
		if len(data) > 0 {
			validDistribution(in, data[0])
		}
		testfixtures.SpokeRoundTrip(t, in, func() *TanzuKubernetesCluster { return &TanzuKubernetesCluster{} })
	})
}

// Any hub object converts to v1alpha2 and back without loss, or is
// refused; never a panic.
func FuzzHubV1alpha2RoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &v1alpha3.TanzuKubernetesCluster{}
		testfixtures.Filler(data, testfixtures.FillHub...).Fill(in)
		testfixtures.HubRoundTrip(t, in, func() *TanzuKubernetesCluster { return &TanzuKubernetesCluster{} })
	})
}
