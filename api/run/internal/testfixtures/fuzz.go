package testfixtures

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/conversion"
	"sigs.k8s.io/randfill"

	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Filler turns a fuzzer's bytes into filled objects: any field may be set,
// with Kubernetes' own rules for metadata and quantities, and no
// conversion annotation (those are the conversions' to write, and a
// client cannot set one a webhook then trusts more than the fields).
// extra are fill funcs of the caller's version (its enums, its release
// fields).
func Filler(data []byte, extra ...any) *randfill.Filler {
	funcs := metafuzzer.Funcs(serializer.CodecFactory{})
	funcs = append(funcs, extra...)
	funcs = append(funcs,
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1<<40), resource.BinarySI)
		},
		func(m *metav1.ObjectMeta, c randfill.Continue) {
			c.FillNoCustom(m)
			for k := range m.Annotations {
				if strings.HasSuffix(k, "conversion-data") {
					delete(m.Annotations, k)
				}
			}
			m.ManagedFields = nil
		},
	)
	return randfill.NewFromGoFuzz(data).Funcs(funcs...).NilChance(0.3).NumElements(0, 3).MaxDepth(8)
}

// Stored is obj as the API server would store it: written to JSON and
// read back into out, so that nil and empty and other forms JSON does not
// tell apart compare equal.
func Stored(obj, out any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// OneOf picks one of values.
func OneOf[T any](c randfill.Continue, values ...T) T {
	return values[c.Intn(len(values))]
}

// ReleaseVersions are the versions of Facts' releases (a stored cluster
// names one of them: the webhook refuses any other).
func ReleaseVersions() []string {
	var out []string
	for _, r := range Facts().Releases {
		out = append(out, r.Version)
	}
	return out
}

// FillHub keeps what the API server refuses out of filled v1alpha3
// objects: enums hold one of their values and releases are shipped ones.
var FillHub = []any{
	func(p *v1alpha3.TanzuKubernetesClusterPhase, c randfill.Continue) {
		*p = OneOf(c, v1alpha3.PhaseEmpty, v1alpha3.PhaseCreating, v1alpha3.PhaseFailed, v1alpha3.PhaseRunning,
			v1alpha3.PhaseUnhealthy, v1alpha3.PhaseUpdating, v1alpha3.PhaseUpdateFailed, v1alpha3.PhaseDeleting)
	},
	func(p *v1alpha3.AddonType, c randfill.Continue) {
		*p = OneOf(c, v1alpha3.AddonAuthService, v1alpha3.AddonCNI, v1alpha3.AddonCPI, v1alpha3.AddonCSI,
			v1alpha3.AddonDNS, v1alpha3.AddonProxy, v1alpha3.AddonPSP, v1alpha3.AddonMetricsServer)
	},
	func(p *v1alpha3.VirtualMachineState, c randfill.Continue) {
		*p = OneOf(c, v1alpha3.VirtualMachineStateNotFound, v1alpha3.VirtualMachineStatePending, v1alpha3.VirtualMachineStateCreated,
			v1alpha3.VirtualMachineStatePoweredOn, v1alpha3.VirtualMachineStateReady, v1alpha3.VirtualMachineStateDeleting, v1alpha3.VirtualMachineStateError)
	},
	func(p *v1alpha3.NodeStatus, c randfill.Continue) {
		*p = OneOf(c, v1alpha3.NodeStatusPending, v1alpha3.NodeStatusUnknown, v1alpha3.NodeStatusReady, v1alpha3.NodeStatusNotReady)
	},
	func(p *v1alpha3.ConditionSeverity, c randfill.Continue) {
		*p = OneOf(c, v1alpha3.ConditionSeverityError, v1alpha3.ConditionSeverityWarning, v1alpha3.ConditionSeverityInfo, v1alpha3.ConditionSeverityNone)
	},
	// The webhook refuses two pools of one name.
	func(pools *[]v1alpha3.NodePool, c randfill.Continue) {
		c.FillNoCustom(pools)
		*pools = UniqueNames(*pools, func(p v1alpha3.NodePool) string { return p.Name })
	},
	func(r *v1alpha3.TKRReference, c randfill.Continue) {
		*r = v1alpha3.TKRReference{}
		if names := releaseNames(); c.Bool() {
			*r = release(OneOf(c, names...))
		}
	},
}

func releaseNames() []string {
	var out []string
	for _, r := range Facts().Releases {
		out = append(out, r.Name)
	}
	return out
}

// UniqueNames keeps the first of the items of each name.
func UniqueNames[T any](items []T, name func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, it := range items {
		if !seen[name(it)] {
			seen[name(it)] = true
			out = append(out, it)
		}
	}
	return out
}

// CheckFieldPaths fails t unless every error names a field of the object's
// spec or metadata: a user must be told which field is wrong.
func CheckFieldPaths(t interface{ Errorf(string, ...any) }, errs field.ErrorList) {
	for _, e := range errs {
		if !strings.HasPrefix(e.Field, "spec") && !strings.HasPrefix(e.Field, "metadata") {
			t.Errorf("error %q names no field of the object", e.Error())
		}
		if e.Type == field.ErrorTypeInternal {
			t.Errorf("internal error for a user's object: %v", e)
		}
	}
}

// T is what the checks use of a test (*testing.T satisfies it; this
// package imports no testing, as no non-test file may).
type T interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// SpokeRoundTrip checks that in, a filled object of an older version,
// converts to the hub and back to what the API server stored, unless the
// conversion refuses it.
func SpokeRoundTrip[S conversion.Convertible](t T, in S, newSpoke func() S) {
	t.Helper()
	want := newSpoke()
	if err := Stored(in, want); err != nil {
		t.Skip(err)
	}
	hub := &v1alpha3.TanzuKubernetesCluster{}
	if err := want.DeepCopyObject().(S).ConvertTo(hub); err != nil {
		return // refused
	}
	storedHub := &v1alpha3.TanzuKubernetesCluster{}
	if err := Stored(hub, storedHub); err != nil {
		t.Fatal(err)
	}
	back := newSpoke()
	if err := back.ConvertFrom(storedHub); err != nil {
		t.Fatalf("the hub an object converted to does not convert back: %v", err)
	}
	got := newSpoke()
	if err := Stored(back, got); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("a round trip through v1alpha3 lost data:\n%s", diff.Diff(want, got))
	}
}

// HubRoundTrip checks that in, a filled hub object, converts to an older
// version and back to what the API server stored, unless the conversion
// refuses it.
func HubRoundTrip[S conversion.Convertible](t T, in *v1alpha3.TanzuKubernetesCluster, newSpoke func() S) {
	t.Helper()
	want := &v1alpha3.TanzuKubernetesCluster{}
	if err := Stored(in, want); err != nil {
		t.Skip(err)
	}
	spoke := newSpoke()
	if err := spoke.ConvertFrom(want.DeepCopy()); err != nil {
		return // refused
	}
	storedSpoke := newSpoke()
	if err := Stored(spoke, storedSpoke); err != nil {
		t.Fatal(err)
	}
	back := &v1alpha3.TanzuKubernetesCluster{}
	if err := storedSpoke.ConvertTo(back); err != nil {
		t.Fatalf("the object a hub converted to does not convert back: %v", err)
	}
	got := &v1alpha3.TanzuKubernetesCluster{}
	if err := Stored(back, got); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("a round trip from v1alpha3 lost data:\n%s", diff.Diff(want, got))
	}
}
