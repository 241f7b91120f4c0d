package v1alpha3

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/api/run/rules"
)

// Default fills what users may leave out: the settings every version shares
// (rules.DefaultSettings), one control-plane node, the control plane's
// release (the newest compatible one) and each pool's (the control plane's).
func (c *TanzuKubernetesCluster) Default(f rules.Facts) {
	rules.DefaultSettings(&c.Spec.Settings, f)
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
