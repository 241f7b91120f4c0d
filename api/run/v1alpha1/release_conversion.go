package v1alpha1

import (
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha2"
)

// TanzuKubernetesRelease and TkgServiceConfiguration have the same fields in
// v1alpha1 and v1alpha2 (the v1alpha2 hub), so conversion copies them. Without
// it, any reader of v1alpha1 (older clients list releases there) gets an
// error from the conversion webhook.

// ConvertTo converts this TanzuKubernetesRelease to the v1alpha2 hub.
func (src *TanzuKubernetesRelease) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha2.TanzuKubernetesRelease)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	if err := rules.CopyJSON(src.Spec, &dst.Spec); err != nil {
		return err
	}
	return rules.CopyJSON(src.Status, &dst.Status)
}

// ConvertFrom converts the v1alpha2 hub to this TanzuKubernetesRelease.
func (dst *TanzuKubernetesRelease) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha2.TanzuKubernetesRelease)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	if err := rules.CopyJSON(src.Spec, &dst.Spec); err != nil {
		return err
	}
	return rules.CopyJSON(src.Status, &dst.Status)
}

// ConvertTo converts this TkgServiceConfiguration to the v1alpha2 hub.
func (src *TkgServiceConfiguration) ConvertTo(hub conversion.Hub) error {
	dst := hub.(*v1alpha2.TkgServiceConfiguration)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	return rules.CopyJSON(src.Spec, &dst.Spec)
}

// ConvertFrom converts the v1alpha2 hub to this TkgServiceConfiguration.
func (dst *TkgServiceConfiguration) ConvertFrom(hub conversion.Hub) error {
	src := hub.(*v1alpha2.TkgServiceConfiguration)
	src.ObjectMeta.DeepCopyInto(&dst.ObjectMeta)
	return rules.CopyJSON(src.Spec, &dst.Spec)
}
