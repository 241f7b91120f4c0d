package v1beta1

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// Annotations that make conversion lossless in both directions. CAPV keeps
// only the hub's fields (in Cluster API's conversion-data annotation, and
// only some of them); a v1beta1 writer's status.vmIp, spec.failureDomain or
// a ProviderServiceAccount's status would be lost in storage. Here each
// direction saves the other version's spec and status when converting back
// would not give them again, together with a hash of what they were
// converted from, and restores them only while that still matches: once a
// writer of the other version changes the object, plain conversion is the
// truth again.
//
// One limit is the API server's, not conversion's: a write through the
// status subresource keeps no metadata, so there status v1beta2 cannot say
// is not kept. Of what CAPV v1.15 writes there, ready, vmID, vmstatus and
// a vmIp among the addresses are derived again; a VSphereCluster's
// resourcePolicyName and a ProviderServiceAccount's status are not.
const (
	// SpokeDataAnnotation, on a stored (v1beta2) object, keeps the v1beta1
	// spec and status it was written as.
	SpokeDataAnnotation = "vmware.infrastructure.cluster.x-k8s.io/v1beta1-conversion-data"
	// HubDataAnnotation, on a v1beta1 object as read, keeps the v1beta2 spec
	// and status it was read from.
	HubDataAnnotation = "vmware.infrastructure.cluster.x-k8s.io/v1beta2-conversion-data"
)

// savedBody is the value of both annotations.
type savedBody struct {
	// Body is the other version's object without metadata, apiVersion and kind.
	Body json.RawMessage `json:"body"`
	// Of is the hash of the body of the object that carries the annotation
	// when Body was saved.
	Of string `json:"of"`
}

type object interface {
	metav1.Object
	runtime.Object
}

// body is obj as JSON without metadata, apiVersion and kind (encoding/json
// sorts the keys, so equal objects give equal bytes).
func body(obj runtime.Object) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "metadata")
	delete(m, "apiVersion")
	delete(m, "kind")
	return json.Marshal(m)
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// convertLossless converts src into dst with plain. If src carries, under
// restoreFrom, dst's version as it was when src was converted from it, and
// src has not changed since, dst becomes that verbatim. Otherwise, if
// converting dst back with back would not give src again, src's body is
// saved on dst under saveOn.
func convertLossless[S, D object](src S, dst D, plain func(S, D) error, back func(D) (S, error), restoreFrom, saveOn string) error {
	if err := plain(src, dst); err != nil {
		return err
	}
	annotations := map[string]string{}
	for k, v := range src.GetAnnotations() {
		if k != restoreFrom && k != saveOn {
			annotations[k] = v
		}
	}
	srcBody, err := body(src)
	if err != nil {
		return err
	}
	if raw, ok := src.GetAnnotations()[restoreFrom]; ok {
		var saved savedBody
		if err := json.Unmarshal([]byte(raw), &saved); err != nil {
			return fmt.Errorf("annotation %s: %w", restoreFrom, err)
		}
		if saved.Of == hash(srcBody) {
			if err := replaceBody(dst, saved.Body); err != nil {
				return fmt.Errorf("annotation %s: %w", restoreFrom, err)
			}
			dst.SetAnnotations(nonEmpty(annotations))
			return nil
		}
	}
	dst.SetAnnotations(nonEmpty(annotations))
	again, err := back(dst)
	if err != nil {
		return err
	}
	againBody, err := body(again)
	if err != nil {
		return err
	}
	if string(againBody) == string(srcBody) {
		return nil
	}
	dstBody, err := body(dst)
	if err != nil {
		return err
	}
	value, err := json.Marshal(savedBody{Body: srcBody, Of: hash(dstBody)})
	if err != nil {
		return err
	}
	annotations[saveOn] = string(value)
	dst.SetAnnotations(annotations)
	return nil
}

// replaceBody sets everything but obj's metadata and type from b.
func replaceBody(obj object, b json.RawMessage) error {
	v := reflect.ValueOf(obj).Elem()
	fresh := reflect.New(v.Type())
	if err := json.Unmarshal(b, fresh.Interface()); err != nil {
		return err
	}
	for _, keep := range []string{"TypeMeta", "ObjectMeta"} {
		fresh.Elem().FieldByName(keep).Set(v.FieldByName(keep))
	}
	v.Set(fresh.Elem())
	return nil
}

func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// toHub and fromHub wire convertLossless for a spoke type S and hub type H.
func toHub[S, H object](src S, dst H, plainTo func(S, H) error, plainFrom func(H, S) error, newSpoke func() S) error {
	back := func(h H) (S, error) {
		s := newSpoke()
		return s, plainFrom(h, s)
	}
	return convertLossless(src, dst, plainTo, back, HubDataAnnotation, SpokeDataAnnotation)
}

func fromHub[S, H object](src H, dst S, plainTo func(S, H) error, plainFrom func(H, S) error, newHub func() H) error {
	back := func(s S) (H, error) {
		h := newHub()
		return h, plainTo(s, h)
	}
	return convertLossless(src, dst, plainFrom, back, SpokeDataAnnotation, HubDataAnnotation)
}

// VSphereCluster

func vsphereClusterTo(src *VSphereCluster, dst *v1beta2.VSphereCluster) error {
	if err := Convert_v1beta1_VSphereCluster_To_v1beta2_VSphereCluster(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	if src.Status.Ready {
		dst.Status.Initialization.Provisioned = new(true)
	}
	return nil
}

func vsphereClusterFrom(src *v1beta2.VSphereCluster, dst *VSphereCluster) error {
	if err := Convert_v1beta2_VSphereCluster_To_v1beta1_VSphereCluster(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	return nil
}

// ConvertTo converts this VSphereCluster to the v1beta2 hub.
func (src *VSphereCluster) ConvertTo(hub conversion.Hub) error {
	return toHub(src, hub.(*v1beta2.VSphereCluster), vsphereClusterTo, vsphereClusterFrom, func() *VSphereCluster { return &VSphereCluster{} })
}

// ConvertFrom converts the v1beta2 hub to this version.
func (dst *VSphereCluster) ConvertFrom(hub conversion.Hub) error {
	return fromHub(hub.(*v1beta2.VSphereCluster), dst, vsphereClusterTo, vsphereClusterFrom, func() *v1beta2.VSphereCluster { return &v1beta2.VSphereCluster{} })
}

// VSphereClusterTemplate

func vsphereClusterTemplateTo(src *VSphereClusterTemplate, dst *v1beta2.VSphereClusterTemplate) error {
	if err := Convert_v1beta1_VSphereClusterTemplate_To_v1beta2_VSphereClusterTemplate(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	return nil
}

func vsphereClusterTemplateFrom(src *v1beta2.VSphereClusterTemplate, dst *VSphereClusterTemplate) error {
	if err := Convert_v1beta2_VSphereClusterTemplate_To_v1beta1_VSphereClusterTemplate(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	return nil
}

// ConvertTo converts this VSphereClusterTemplate to the v1beta2 hub.
func (src *VSphereClusterTemplate) ConvertTo(hub conversion.Hub) error {
	return toHub(src, hub.(*v1beta2.VSphereClusterTemplate), vsphereClusterTemplateTo, vsphereClusterTemplateFrom, func() *VSphereClusterTemplate { return &VSphereClusterTemplate{} })
}

// ConvertFrom converts the v1beta2 hub to this version.
func (dst *VSphereClusterTemplate) ConvertFrom(hub conversion.Hub) error {
	return fromHub(hub.(*v1beta2.VSphereClusterTemplate), dst, vsphereClusterTemplateTo, vsphereClusterTemplateFrom, func() *v1beta2.VSphereClusterTemplate { return &v1beta2.VSphereClusterTemplate{} })
}

// VSphereMachine

func vsphereMachineTo(src *VSphereMachine, dst *v1beta2.VSphereMachine) error {
	if err := Convert_v1beta1_VSphereMachine_To_v1beta2_VSphereMachine(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	if src.Status.Ready {
		dst.Status.Initialization.Provisioned = new(true)
	}
	return nil
}

func vsphereMachineFrom(src *v1beta2.VSphereMachine, dst *VSphereMachine) error {
	if err := Convert_v1beta2_VSphereMachine_To_v1beta1_VSphereMachine(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	normalizeMachineSpec(&dst.Spec)
	if dst.Status.ID != nil && *dst.Status.ID == "" {
		dst.Status.ID = nil
	}
	// v1beta2 has no vmIp; v1beta1 readers (kubectl's IPAddr column, CAPV
	// v1.15 scripts) find the machine's internal IP there.
	for _, a := range src.Status.Addresses {
		if a.Type == "InternalIP" {
			dst.Status.IPAddr = a.Address
			break
		}
	}
	return nil
}

// normalizeMachineSpec drops the empty pointers conversion-gen makes of
// empty strings, as CAPV does.
func normalizeMachineSpec(s *VSphereMachineSpec) {
	if s.ProviderID != nil && *s.ProviderID == "" {
		s.ProviderID = nil
	}
	if s.FailureDomain != nil && *s.FailureDomain == "" {
		s.FailureDomain = nil
	}
}

// ConvertTo converts this VSphereMachine to the v1beta2 hub.
func (src *VSphereMachine) ConvertTo(hub conversion.Hub) error {
	return toHub(src, hub.(*v1beta2.VSphereMachine), vsphereMachineTo, vsphereMachineFrom, func() *VSphereMachine { return &VSphereMachine{} })
}

// ConvertFrom converts the v1beta2 hub to this version.
func (dst *VSphereMachine) ConvertFrom(hub conversion.Hub) error {
	return fromHub(hub.(*v1beta2.VSphereMachine), dst, vsphereMachineTo, vsphereMachineFrom, func() *v1beta2.VSphereMachine { return &v1beta2.VSphereMachine{} })
}

// VSphereMachineTemplate

func vsphereMachineTemplateTo(src *VSphereMachineTemplate, dst *v1beta2.VSphereMachineTemplate) error {
	if err := Convert_v1beta1_VSphereMachineTemplate_To_v1beta2_VSphereMachineTemplate(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	return nil
}

func vsphereMachineTemplateFrom(src *v1beta2.VSphereMachineTemplate, dst *VSphereMachineTemplate) error {
	if err := Convert_v1beta2_VSphereMachineTemplate_To_v1beta1_VSphereMachineTemplate(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	normalizeMachineSpec(&dst.Spec.Template.Spec)
	return nil
}

// ConvertTo converts this VSphereMachineTemplate to the v1beta2 hub.
func (src *VSphereMachineTemplate) ConvertTo(hub conversion.Hub) error {
	return toHub(src, hub.(*v1beta2.VSphereMachineTemplate), vsphereMachineTemplateTo, vsphereMachineTemplateFrom, func() *VSphereMachineTemplate { return &VSphereMachineTemplate{} })
}

// ConvertFrom converts the v1beta2 hub to this version.
func (dst *VSphereMachineTemplate) ConvertFrom(hub conversion.Hub) error {
	return fromHub(hub.(*v1beta2.VSphereMachineTemplate), dst, vsphereMachineTemplateTo, vsphereMachineTemplateFrom, func() *v1beta2.VSphereMachineTemplate { return &v1beta2.VSphereMachineTemplate{} })
}

// ProviderServiceAccount

func providerServiceAccountTo(src *ProviderServiceAccount, dst *v1beta2.ProviderServiceAccount) error {
	if err := Convert_v1beta1_ProviderServiceAccount_To_v1beta2_ProviderServiceAccount(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	if dst.Spec.Ref != nil {
		dst.Spec.Ref = dst.Spec.Ref.DeepCopy()
	}
	return nil
}

func providerServiceAccountFrom(src *v1beta2.ProviderServiceAccount, dst *ProviderServiceAccount) error {
	if err := Convert_v1beta2_ProviderServiceAccount_To_v1beta1_ProviderServiceAccount(src, dst, nil); err != nil {
		return err
	}
	dst.ObjectMeta = *src.ObjectMeta.DeepCopy()
	if dst.Spec.Ref != nil {
		dst.Spec.Ref = dst.Spec.Ref.DeepCopy()
	}
	return nil
}

// ConvertTo converts this ProviderServiceAccount to the v1beta2 hub.
func (src *ProviderServiceAccount) ConvertTo(hub conversion.Hub) error {
	return toHub(src, hub.(*v1beta2.ProviderServiceAccount), providerServiceAccountTo, providerServiceAccountFrom, func() *ProviderServiceAccount { return &ProviderServiceAccount{} })
}

// ConvertFrom converts the v1beta2 hub to this version.
func (dst *ProviderServiceAccount) ConvertFrom(hub conversion.Hub) error {
	return fromHub(hub.(*v1beta2.ProviderServiceAccount), dst, providerServiceAccountTo, providerServiceAccountFrom, func() *v1beta2.ProviderServiceAccount { return &v1beta2.ProviderServiceAccount{} })
}
