package v1alpha2

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/open-supervisor/supervisor/api/run/rules"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Default resolves the deprecated distribution to the control plane's
// release when no release is referenced, then applies v1alpha3's defaults:
// the two versions share every other field and its path, so the rules are
// written once, on the hub.
func (c *TanzuKubernetesCluster) Default(f rules.Facts) error {
	d := &c.Spec.Distribution
	cp := &c.Spec.Topology.ControlPlane
	if cp.TKR.Reference == nil && (d.Version != "" || d.VersionHint != "") {
		if d.Version == "" {
			if r, err := rules.Resolve(d.VersionHint, f.Releases); err == nil {
				d.Version = r.Version
			}
		}
		if d.Version != "" {
			cp.TKR.Reference = &corev1.ObjectReference{Name: rules.ReleaseName(d.Version)}
		}
	}
	if cp.TKR.Reference == nil && d.VersionHint != "" {
		return nil // nothing matches the hint; Validate says so rather than picking another release
	}
	hub := &v1alpha3.TanzuKubernetesCluster{}
	if err := c.ConvertTo(hub); err != nil {
		return err
	}
	hub.Default(f)
	return c.ConvertFrom(hub)
}
