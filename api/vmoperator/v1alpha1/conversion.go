package v1alpha1

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// Annotations carrying what one version cannot say. Each holds the other
// version's spec and status as JSON, written only when a round trip would
// lose something, and used only while the fields both versions say agree
// (so an edit through one version is never undone by a stale copy).
const (
	// HubDataAnnotation, on a v1alpha1 object, is its v1alpha2 form.
	HubDataAnnotation = "vmoperator.vmware.com/v1alpha2-data"
	// SpokeDataAnnotation, on a v1alpha2 object, is its v1alpha1 form.
	SpokeDataAnnotation = "vmoperator.vmware.com/v1alpha1-data"
)

// state is an object's spec and status, the part conversion changes.
type state[Spec, Status any] struct {
	Spec   Spec   `json:"spec"`
	Status Status `json:"status"`
}

// convertKeepingData converts src with conv, restores from src's readKey
// annotation what conv cannot say (when back of the stored copy agrees with
// src), and records src in writeKey when back(result) would lose some of it.
// It returns the converted state and the annotations for the result.
func convertKeepingData[FS, FT, TS, TT any](src state[FS, FT], annotations map[string]string, readKey, writeKey string,
	conv func(state[FS, FT]) state[TS, TT], back func(state[TS, TT]) state[FS, FT]) (state[TS, TT], map[string]string, error) {
	out := conv(src)
	if raw, ok := annotations[readKey]; ok {
		var stored state[TS, TT]
		if err := json.Unmarshal([]byte(raw), &stored); err == nil {
			b := back(stored)
			if sameJSON(b.Spec, src.Spec) {
				out.Spec = stored.Spec
			} else if merge := specMergers[readKey]; merge != nil {
				// Edited through this version: keep what it cannot say,
				// take what it says.
				out.Spec = mergeSpec(stored.Spec, out.Spec, changedFields(b.Spec, src.Spec), merge)
			}
			if sameJSON(b.Status, src.Status) {
				out.Status = stored.Status
			}
		}
	}
	var ann map[string]string
	for k, v := range annotations {
		if k == readKey || k == writeKey {
			continue
		}
		if ann == nil {
			ann = map[string]string{}
		}
		ann[k] = v
	}
	if b := back(out); !sameJSON(b.Spec, src.Spec) || !sameJSON(b.Status, src.Status) {
		raw, err := json.Marshal(src)
		if err != nil {
			return out, nil, fmt.Errorf("failed to record what the other version cannot say: %w", err)
		}
		if ann == nil {
			ann = map[string]string{}
		}
		ann[writeKey] = string(raw)
	}
	return out, ann, nil
}

// specMergers map, for a conversion reading the annotation named by the
// key, each top-level spec field of the source version to the fields of
// the target version it decides. Only VirtualMachine's specs differ in
// shape; the other kinds' specs say the same in both versions.
var specMergers = map[string]map[string][]string{
	HubDataAnnotation: { // v1alpha1 -> v1alpha2
		"imageName": {"imageName"}, "className": {"className"}, "storageClass": {"storageClass"},
		"powerState": {"powerState"}, "powerOffMode": {"powerOffMode"}, "suspendMode": {"suspendMode"},
		"restartMode": {"restartMode"}, "nextRestartTime": {"nextRestartTime"}, "minHardwareVersion": {"minHardwareVersion"},
		"resourcePolicyName": {"reserved"}, "vmMetadata": {"bootstrap"}, "networkInterfaces": {"network"},
		"volumes": {"volumes", "advanced"}, "readinessProbe": {"readinessProbe"},
	},
}

// changedFields are the top-level fields whose stored forms differ.
func changedFields(a, b any) []string {
	ma, mb := jsonFields(a), jsonFields(b)
	var changed []string
	for k := range ma {
		if !equality.Semantic.DeepEqual(ma[k], mb[k]) {
			changed = append(changed, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			changed = append(changed, k)
		}
	}
	return changed
}

func jsonFields(v any) map[string]any {
	raw, _ := json.Marshal(v)
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return m
}

// mergeSpec is stored with the target fields the changed source fields
// decide taken from converted.
func mergeSpec[T any](stored, converted T, changed []string, merge map[string][]string) T {
	out, conv := jsonFields(stored), jsonFields(converted)
	for _, f := range changed {
		for _, target := range merge[f] {
			if v, ok := conv[target]; ok {
				out[target] = v
			} else {
				delete(out, target)
			}
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return converted
	}
	var merged T
	if err := json.Unmarshal(raw, &merged); err != nil {
		return converted
	}
	return merged
}

// sameJSON says whether a and b are stored alike: compared as the API
// server stores them, an empty list and none are the same.
func sameJSON(a, b any) bool {
	ra, errA := json.Marshal(a)
	rb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return equality.Semantic.DeepEqual(a, b)
	}
	var va, vb any
	if json.Unmarshal(ra, &va) != nil || json.Unmarshal(rb, &vb) != nil {
		return false
	}
	return equality.Semantic.DeepEqual(va, vb)
}

// viaJSON converts between types of the same JSON shape.
func viaJSON[T any](in any) T {
	var out T
	raw, err := json.Marshal(in)
	if err == nil {
		_ = json.Unmarshal(raw, &out) // same shape: cannot fail
	}
	return out
}

func convertConditionsUp(in []Condition) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range in {
		reason := c.Reason
		if reason == "" {
			reason = string(c.Status) // metav1 requires one
		}
		out = append(out, metav1.Condition{Type: c.Type, Status: metav1.ConditionStatus(c.Status), LastTransitionTime: c.LastTransitionTime, Reason: reason, Message: c.Message})
	}
	return out
}

func convertConditionsDown(in []metav1.Condition) []Condition {
	var out []Condition
	for _, c := range in {
		cond := Condition{Type: c.Type, Status: corev1.ConditionStatus(c.Status), LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message}
		if c.Status == metav1.ConditionFalse {
			cond.Severity = "Info"
		}
		out = append(out, cond)
	}
	return out
}

// ConvertTo converts this VirtualMachineClass to the hub.
func (src *VirtualMachineClass) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*vmopv1.VirtualMachineClass)
	out, ann, err := convertKeepingData(state[VirtualMachineClassSpec, VirtualMachineClassStatus]{src.Spec, src.Status}, src.Annotations, HubDataAnnotation, SpokeDataAnnotation,
		classUp, classDown)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// ConvertFrom converts the hub to this VirtualMachineClass.
func (dst *VirtualMachineClass) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*vmopv1.VirtualMachineClass)
	out, ann, err := convertKeepingData(state[vmopv1.VirtualMachineClassSpec, vmopv1.VirtualMachineClassStatus]{src.Spec, src.Status}, src.Annotations, SpokeDataAnnotation, HubDataAnnotation,
		classDown, classUp)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

func classUp(in state[VirtualMachineClassSpec, VirtualMachineClassStatus]) state[vmopv1.VirtualMachineClassSpec, vmopv1.VirtualMachineClassStatus] {
	return state[vmopv1.VirtualMachineClassSpec, vmopv1.VirtualMachineClassStatus]{Spec: viaJSON[vmopv1.VirtualMachineClassSpec](in.Spec)}
}

func classDown(in state[vmopv1.VirtualMachineClassSpec, vmopv1.VirtualMachineClassStatus]) state[VirtualMachineClassSpec, VirtualMachineClassStatus] {
	return state[VirtualMachineClassSpec, VirtualMachineClassStatus]{Spec: viaJSON[VirtualMachineClassSpec](in.Spec)}
}

// ConvertTo converts this VirtualMachineService to the hub.
func (src *VirtualMachineService) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*vmopv1.VirtualMachineService)
	out, ann, err := convertKeepingData(state[VirtualMachineServiceSpec, VirtualMachineServiceStatus]{src.Spec, src.Status}, src.Annotations, HubDataAnnotation, SpokeDataAnnotation,
		serviceUp, serviceDown)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// ConvertFrom converts the hub to this VirtualMachineService.
func (dst *VirtualMachineService) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*vmopv1.VirtualMachineService)
	out, ann, err := convertKeepingData(state[vmopv1.VirtualMachineServiceSpec, vmopv1.VirtualMachineServiceStatus]{src.Spec, src.Status}, src.Annotations, SpokeDataAnnotation, HubDataAnnotation,
		serviceDown, serviceUp)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

func serviceUp(in state[VirtualMachineServiceSpec, VirtualMachineServiceStatus]) state[vmopv1.VirtualMachineServiceSpec, vmopv1.VirtualMachineServiceStatus] {
	return state[vmopv1.VirtualMachineServiceSpec, vmopv1.VirtualMachineServiceStatus]{
		Spec:   viaJSON[vmopv1.VirtualMachineServiceSpec](in.Spec),
		Status: viaJSON[vmopv1.VirtualMachineServiceStatus](in.Status),
	}
}

func serviceDown(in state[vmopv1.VirtualMachineServiceSpec, vmopv1.VirtualMachineServiceStatus]) state[VirtualMachineServiceSpec, VirtualMachineServiceStatus] {
	return state[VirtualMachineServiceSpec, VirtualMachineServiceStatus]{
		Spec:   viaJSON[VirtualMachineServiceSpec](in.Spec),
		Status: viaJSON[VirtualMachineServiceStatus](in.Status),
	}
}

// ConvertTo converts this VirtualMachineImage to the hub.
func (src *VirtualMachineImage) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*vmopv1.VirtualMachineImage)
	out, ann, err := convertKeepingData(state[VirtualMachineImageSpec, VirtualMachineImageStatus]{src.Spec, src.Status}, src.Annotations, HubDataAnnotation, SpokeDataAnnotation,
		imageUp, imageDown)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// ConvertFrom converts the hub to this VirtualMachineImage.
func (dst *VirtualMachineImage) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*vmopv1.VirtualMachineImage)
	out, ann, err := convertKeepingData(state[vmopv1.VirtualMachineImageSpec, vmopv1.VirtualMachineImageStatus]{src.Spec, src.Status}, src.Annotations, SpokeDataAnnotation, HubDataAnnotation,
		imageDown, imageUp)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// ConvertTo converts this ClusterVirtualMachineImage to the hub.
func (src *ClusterVirtualMachineImage) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*vmopv1.ClusterVirtualMachineImage)
	out, ann, err := convertKeepingData(state[VirtualMachineImageSpec, VirtualMachineImageStatus]{src.Spec, src.Status}, src.Annotations, HubDataAnnotation, SpokeDataAnnotation,
		imageUp, imageDown)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// ConvertFrom converts the hub to this ClusterVirtualMachineImage.
func (dst *ClusterVirtualMachineImage) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*vmopv1.ClusterVirtualMachineImage)
	out, ann, err := convertKeepingData(state[vmopv1.VirtualMachineImageSpec, vmopv1.VirtualMachineImageStatus]{src.Spec, src.Status}, src.Annotations, SpokeDataAnnotation, HubDataAnnotation,
		imageDown, imageUp)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// imageUp: v1alpha1 described the image in spec, v1alpha2 in status.
func imageUp(in state[VirtualMachineImageSpec, VirtualMachineImageStatus]) state[vmopv1.VirtualMachineImageSpec, vmopv1.VirtualMachineImageStatus] {
	out := state[vmopv1.VirtualMachineImageSpec, vmopv1.VirtualMachineImageStatus]{}
	if r := in.Spec.ProviderRef; r.Name != "" {
		out.Spec.ProviderRef = &vmopv1.LocalObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}
	}
	out.Status = vmopv1.VirtualMachineImageStatus{
		Name:                   in.Status.ImageName,
		Type:                   in.Spec.Type,
		ProviderItemID:         in.Spec.ImageID,
		ProviderContentVersion: in.Status.ContentVersion,
		ProductInfo:            vmopv1.VirtualMachineImageProductInfo(in.Spec.ProductInfo),
		OSInfo:                 vmopv1.VirtualMachineImageOSInfo{Type: in.Spec.OSInfo.Type, Version: in.Spec.OSInfo.Version},
		Conditions:             convertConditionsUp(in.Status.Conditions),
	}
	return out
}

func imageDown(in state[vmopv1.VirtualMachineImageSpec, vmopv1.VirtualMachineImageStatus]) state[VirtualMachineImageSpec, VirtualMachineImageStatus] {
	out := state[VirtualMachineImageSpec, VirtualMachineImageStatus]{}
	if r := in.Spec.ProviderRef; r != nil {
		out.Spec.ProviderRef = ContentProviderReference{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name}
	}
	st := in.Status
	out.Spec.Type, out.Spec.ImageID = st.Type, st.ProviderItemID
	out.Spec.ProductInfo = VirtualMachineImageProductInfo(st.ProductInfo)
	out.Spec.OSInfo = VirtualMachineImageOSInfo{Type: st.OSInfo.Type, Version: st.OSInfo.Version}
	out.Status.ImageName, out.Status.ContentVersion = st.Name, st.ProviderContentVersion
	out.Status.Conditions = convertConditionsDown(st.Conditions)
	for _, c := range st.Conditions {
		if c.Type == vmopv1.VirtualMachineImageProviderReadyCondition {
			ready := c.Status == metav1.ConditionTrue
			out.Status.ImageSupported = &ready
		}
	}
	return out
}
