package v1alpha1

import (
	"github.com/open-supervisor/supervisor/api/run/rules"
)

// Default fills what users may leave out: the settings every version shares
// (rules.DefaultSettings) and the full version, resolved from the hint to
// the newest compatible release. A hint nothing matches is left for Validate
// to report.
func (c *TanzuKubernetesCluster) Default(f rules.Facts) {
	rules.DefaultSettings(&c.Spec.Settings, f)
	d := &c.Spec.Distribution
	if d.Version == "" {
		if r, err := rules.Resolve(d.VersionHint, f.Releases); err == nil {
			d.Version = r.Version
		}
	}
}
