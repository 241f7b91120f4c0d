package v1alpha3

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/api/run/rules"
)

// Default fills what users may leave out: the CNI, pod and service ranges,
// service domain, proxy and trust, one control-plane node, the control plane's release
// (the newest compatible one) and each pool's (the control plane's).
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
	cp := &c.Spec.Topology.ControlPlane
	if cp.Replicas == nil {
		cp.Replicas = ptr.To[int32](1)
	}
	if cp.TKR.Reference == nil {
		if r, err := rules.Resolve("", f.Releases); err == nil {
			cp.TKR.Reference = &corev1.ObjectReference{Name: r.Name}
		}
	}
	for i := range c.Spec.Topology.NodePools {
		if p := &c.Spec.Topology.NodePools[i]; p.TKR.Reference == nil && cp.TKR.Reference != nil {
			p.TKR.Reference = &corev1.ObjectReference{Name: cp.TKR.Reference.Name}
		}
	}
}
