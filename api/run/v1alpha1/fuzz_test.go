package v1alpha1

import (
	"strings"
	"testing"

	"sigs.k8s.io/randfill"

	"github.com/open-supervisor/supervisor/api/run/internal/testfixtures"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// fuzzSeeds are inputs the seed corpus starts from (`make test` runs them;
// `make fuzz` grows from them).
var fuzzSeeds = [][]byte{nil, []byte("tkc"), []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), []byte("v1alpha1 topology with volumes and a hint")}

// fillV1alpha1 keeps what the API server refuses out of filled objects:
// enums hold one of their values, and a distribution names a shipped
// release with a hint that matches it (the webhook refuses any other).
var fillV1alpha1 = []any{
	func(p *AddonState, c randfill.Continue) {
		*p = testfixtures.OneOf(c, AddonStatePending, AddonStateError, AddonStateApplied, AddonStateUnmanaged)
	},
	func(p *VirtualMachineState, c randfill.Continue) {
		*p = testfixtures.OneOf(c, VirtualMachineStateNotFound, VirtualMachineStatePending, VirtualMachineStateCreated,
			VirtualMachineStatePoweredOn, VirtualMachineStateReady, VirtualMachineStateDeleting, VirtualMachineStateError)
	},
	func(p *NodeStatus, c randfill.Continue) {
		*p = testfixtures.OneOf(c, NodeStatusPending, NodeStatusUnknown, NodeStatusReady, NodeStatusNotReady)
	},
	func(p *TanzuKubernetesClusterPhase, c randfill.Continue) {
		*p = testfixtures.OneOf(c, PhaseEmpty, PhaseCreating, PhaseRunning, PhaseDeleting, PhaseFailed, PhaseUpdating, PhaseUpdateFailed)
	},
	func(p *ConditionSeverity, c randfill.Continue) {
		*p = testfixtures.OneOf(c, ConditionSeverityError, ConditionSeverityWarning, ConditionSeverityInfo, ConditionSeverityNone)
	},
	func(d *Distribution, c randfill.Continue) {
		*d = Distribution{Version: testfixtures.OneOf(c, testfixtures.ReleaseVersions()...)}
		if c.Bool() {
			d.VersionHint = strings.Join(strings.SplitN(d.Version, ".", 3)[:2], ".")
		}
	},
}

// Any v1alpha1 object the API server could store converts to the hub and
// back without loss, or is refused with an error; never a panic.
func FuzzV1alpha1HubRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &TanzuKubernetesCluster{}
		testfixtures.Filler(data, fillV1alpha1...).Fill(in)
		testfixtures.SpokeRoundTrip(t, in, func() *TanzuKubernetesCluster { return &TanzuKubernetesCluster{} })
	})
}

// Any hub object converts to v1alpha1 and back without loss, or is
// refused; never a panic.
func FuzzHubV1alpha1RoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &v1alpha3.TanzuKubernetesCluster{}
		testfixtures.Filler(data, testfixtures.FillHub...).Fill(in)
		testfixtures.HubRoundTrip(t, in, func() *TanzuKubernetesCluster { return &TanzuKubernetesCluster{} })
	})
}
