package v1alpha1

import (
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha2"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// TanzuKubernetesRelease and TkgServiceConfiguration have the same fields in
// v1alpha1 and v1alpha2, so v1alpha1 converts to the v1alpha3 hub through
// v1alpha2's conversion (which keeps what v1alpha3 cannot say). Without it,
// any reader of v1alpha1 (older clients list releases there) gets an error
// from the conversion webhook.

// ConvertTo converts this TanzuKubernetesRelease to the v1alpha3 hub.
func (src *TanzuKubernetesRelease) ConvertTo(hub conversion.Hub) error {
	v2 := &v1alpha2.TanzuKubernetesRelease{}
	src.ObjectMeta.DeepCopyInto(&v2.ObjectMeta)
	if err := rules.CopyJSON(src.Spec, &v2.Spec); err != nil {
		return err
	}
	if err := rules.CopyJSON(src.Status, &v2.Status); err != nil {
		return err
	}
	return v2.ConvertTo(hub)
}

// ConvertFrom converts the v1alpha3 hub to this TanzuKubernetesRelease.
func (dst *TanzuKubernetesRelease) ConvertFrom(hub conversion.Hub) error {
	v2 := &v1alpha2.TanzuKubernetesRelease{}
	if err := v2.ConvertFrom(hub); err != nil {
		return err
	}
	v2.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	if err := rules.CopyJSON(v2.Spec, &dst.Spec); err != nil {
		return err
	}
	return rules.CopyJSON(v2.Status, &dst.Status)
}

// ConvertTo converts this TkgServiceConfiguration to the v1alpha3 hub.
func (src *TkgServiceConfiguration) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha3.TkgServiceConfiguration)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	return rules.CopyJSON(src.Spec, &dst.Spec)
}

// ConvertFrom converts the v1alpha3 hub to this TkgServiceConfiguration.
func (dst *TkgServiceConfiguration) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha3.TkgServiceConfiguration)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	return rules.CopyJSON(src.Spec, &dst.Spec)
}
