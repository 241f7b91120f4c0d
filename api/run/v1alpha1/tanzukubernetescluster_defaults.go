package v1alpha1

import (
	"github.com/open-supervisor/supervisor/api/run/rules"
)

// Default fills what users may leave out: the CNI, pod and service ranges,
// service domain, proxy and trust, and the full version, resolved from the hint to the
// newest compatible release. A hint nothing matches is left for Validate
// to report.
func (c *TanzuKubernetesCluster) Default(f rules.Facts) {
	if c.Spec.Settings == nil {
		c.Spec.Settings = &Settings{}
	}
	if c.Spec.Settings.Network == nil {
		c.Spec.Settings.Network = &Network{}
	}
	n := c.Spec.Settings.Network
	if n.CNI == nil || n.CNI.Name == "" {
		n.CNI = &CNIConfiguration{Name: f.DefaultCNI}
	}
	if n.Pods == nil || len(n.Pods.CIDRBlocks) == 0 {
		n.Pods = &NetworkRanges{CIDRBlocks: []string{rules.DefaultPodCIDR}}
	}
	if n.Services == nil || len(n.Services.CIDRBlocks) == 0 {
		n.Services = &NetworkRanges{CIDRBlocks: []string{rules.DefaultServiceCIDR}}
	}
	if n.ServiceDomain == "" {
		n.ServiceDomain = rules.DefaultServiceDomain
	}
	rules.DefaultProxyAndTrust(&n.Proxy, &n.Trust, f)
	d := &c.Spec.Distribution
	if d.Version == "" {
		if r, err := rules.Resolve(d.VersionHint, f.Releases); err == nil {
			d.Version = r.Version
		}
	}
}
