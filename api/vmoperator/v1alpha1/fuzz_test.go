package v1alpha1

import (
	"encoding/json"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/conversion"
	"sigs.k8s.io/randfill"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// filler fills objects from fuzz data with values the API server stores:
// quantities and times in their canonical forms, enums among their values.
func filler(data []byte) *randfill.Filler {
	return randfill.NewFromGoFuzz(data).NilChance(0.3).NumElements(0, 3).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			*q = resource.MustParse(fmt.Sprintf("%dGi", c.Intn(512)+1))
		},
		func(t *metav1.Time, c randfill.Continue) {
			*t = metav1.Unix(int64(c.Uint32()), 0).Rfc3339Copy()
		},
		func(p *intstr.IntOrString, c randfill.Continue) {
			*p = intstr.FromInt32(int32(c.Intn(65535) + 1))
		},
		func(p *VirtualMachinePowerState, c randfill.Continue) {
			*p = []VirtualMachinePowerState{"", VirtualMachinePoweredOn, VirtualMachinePoweredOff, VirtualMachineSuspended}[c.Intn(4)]
		},
		func(p *VirtualMachinePowerOpMode, c randfill.Continue) {
			*p = []VirtualMachinePowerOpMode{"", "hard", "soft", "trySoft"}[c.Intn(4)]
		},
		func(p *VirtualMachineMetadataTransport, c randfill.Continue) {
			*p = []VirtualMachineMetadataTransport{VirtualMachineMetadataExtraConfigTransport, VirtualMachineMetadataOvfEnvTransport,
				VirtualMachineMetadataVAppConfigTransport, VirtualMachineMetadataCloudInitTransport, VirtualMachineMetadataSysprepTransport}[c.Intn(5)]
		},
		func(p *vmopv1.VirtualMachinePowerState, c randfill.Continue) {
			*p = []vmopv1.VirtualMachinePowerState{"", vmopv1.VirtualMachinePowerStateOn, vmopv1.VirtualMachinePowerStateOff, vmopv1.VirtualMachinePowerStateSuspended}[c.Intn(4)]
		},
		func(p *json.RawMessage, c randfill.Continue) {
			*p = json.RawMessage(fmt.Sprintf(`[%q]`, c.String(8)))
		},
	)
}

// stored is obj as the API server would store it (a JSON round trip).
func stored[T any](obj *T) *T {
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		panic(err)
	}
	return out
}

var fuzzSeeds = [][]byte{nil, []byte("vm"), []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), []byte("vSphere 7 VM with OvfEnv metadata")}

// Any v1alpha1 VirtualMachine converts to v1alpha2 and back without loss.
func FuzzV1alpha1VirtualMachineRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &VirtualMachine{}
		filler(data).Fill(&in.Spec)
		filler(append(data, 's')).Fill(&in.Status)
		in.ObjectMeta = metav1.ObjectMeta{Name: "vm", Namespace: "ns"}
		want := stored(in)
		hub := &vmopv1.VirtualMachine{}
		if err := want.DeepCopy().ConvertTo(hub); err != nil {
			t.Fatal(err)
		}
		back := &VirtualMachine{}
		if err := back.ConvertFrom(stored(hub)); err != nil {
			t.Fatal(err)
		}
		got := stored(back)
		if !equality.Semantic.DeepEqual(got.Spec, want.Spec) || !equality.Semantic.DeepEqual(got.Status, want.Status) {
			t.Errorf("v1alpha1 → v1alpha2 → v1alpha1 lost data:\n%s", diff.Diff(want, got))
		}
	})
}

// Any v1alpha2 VirtualMachine converts to v1alpha1 and back without loss.
func FuzzV1alpha2VirtualMachineRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &vmopv1.VirtualMachine{}
		filler(data).Fill(&in.Spec)
		filler(append(data, 's')).Fill(&in.Status)
		in.ObjectMeta = metav1.ObjectMeta{Name: "vm", Namespace: "ns"}
		want := stored(in)
		spoke := &VirtualMachine{}
		if err := spoke.ConvertFrom(want.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		back := &vmopv1.VirtualMachine{}
		if err := stored(spoke).ConvertTo(back); err != nil {
			t.Fatal(err)
		}
		got := stored(back)
		if !equality.Semantic.DeepEqual(got.Spec, want.Spec) || !equality.Semantic.DeepEqual(got.Status, want.Status) {
			t.Errorf("v1alpha2 → v1alpha1 → v1alpha2 lost data:\n%s", diff.Diff(want, got))
		}
	})
}

// roundTrip is one kind's conversion both ways, from fuzz data.
type roundTrip struct {
	name string
	run  func(t *testing.T, data []byte)
}

func spokeFirst[S any, H any, PS interface {
	*S
	ConvertTo(conversion.Hub) error
	ConvertFrom(conversion.Hub) error
}, PH interface {
	*H
	conversion.Hub
}](name string, spec func(PS) any, status func(PS) any, hubSpec func(PH) any, hubStatus func(PH) any) []roundTrip {
	return []roundTrip{
		{name + " v1alpha1", func(t *testing.T, data []byte) {
			in := PS(new(S))
			filler(data).Fill(spec(in))
			filler(append(data, 's')).Fill(status(in))
			want := PS(stored((*S)(in)))
			hub := PH(new(H))
			if err := PS(stored((*S)(want))).ConvertTo(hub); err != nil {
				t.Fatal(err)
			}
			back := PS(new(S))
			if err := back.ConvertFrom(PH(stored((*H)(hub)))); err != nil {
				t.Fatal(err)
			}
			got := PS(stored((*S)(back)))
			if !sameJSON(spec(got), spec(want)) || !sameJSON(status(got), status(want)) {
				t.Errorf("%s lost data:\n%s", name, diff.Diff(want, got))
			}
		}},
		{name + " v1alpha2", func(t *testing.T, data []byte) {
			in := PH(new(H))
			filler(data).Fill(hubSpec(in))
			filler(append(data, 's')).Fill(hubStatus(in))
			want := PH(stored((*H)(in)))
			spoke := PS(new(S))
			if err := spoke.ConvertFrom(PH(stored((*H)(want)))); err != nil {
				t.Fatal(err)
			}
			back := PH(new(H))
			if err := PS(stored((*S)(spoke))).ConvertTo(back); err != nil {
				t.Fatal(err)
			}
			got := PH(stored((*H)(back)))
			if !sameJSON(hubSpec(got), hubSpec(want)) || !sameJSON(hubStatus(got), hubStatus(want)) {
				t.Errorf("%s lost data:\n%s", name, diff.Diff(want, got))
			}
		}},
	}
}

// The other kinds convert both ways without loss too.
func FuzzOtherKindsRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	var trips []roundTrip
	trips = append(trips, spokeFirst[VirtualMachineClass, vmopv1.VirtualMachineClass]("VirtualMachineClass",
		func(o *VirtualMachineClass) any { return &o.Spec }, func(o *VirtualMachineClass) any { return &o.Status },
		func(o *vmopv1.VirtualMachineClass) any { return &o.Spec }, func(o *vmopv1.VirtualMachineClass) any { return &o.Status })...)
	trips = append(trips, spokeFirst[VirtualMachineService, vmopv1.VirtualMachineService]("VirtualMachineService",
		func(o *VirtualMachineService) any { return &o.Spec }, func(o *VirtualMachineService) any { return &o.Status },
		func(o *vmopv1.VirtualMachineService) any { return &o.Spec }, func(o *vmopv1.VirtualMachineService) any { return &o.Status })...)
	trips = append(trips, spokeFirst[VirtualMachineImage, vmopv1.VirtualMachineImage]("VirtualMachineImage",
		func(o *VirtualMachineImage) any { return &o.Spec }, func(o *VirtualMachineImage) any { return &o.Status },
		func(o *vmopv1.VirtualMachineImage) any { return &o.Spec }, func(o *vmopv1.VirtualMachineImage) any { return &o.Status })...)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rt := range trips {
			rt.run(t, data)
		}
	})
}
