package guestsim

import (
	"testing"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
)

// A node's kubelet runs the Kubernetes build its node image's library item
// names, in every naming era of vSphere's library, FIPS and VKr included.
func TestKubeletVersionOfPublishedNodeImages(t *testing.T) {
	m := &clusterv1.Machine{Spec: clusterv1.MachineSpec{Version: "v1.22.0"}}
	for image, want := range map[string]string{
		"ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067":           "v1.20.7+vmware.1",
		"ob-18691651-tkgs-ova-ubuntu-2004-v1.20.8---vmware.1-tkg.2":           "v1.20.8+vmware.1",
		"ob-21961086-photon-3-amd64-vmi-k8s-v1.25.7---vmware.3-fips.1-tkg.1":  "v1.25.7+vmware.3-fips.1",
		"ob-24076161-ubuntu-2204-amd64-vmi-k8s-v1.30.1---vmware.1-fips-tkg.5": "v1.30.1+vmware.1-fips",
		"ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1":         "v1.30.8+vmware.1-fips",
		"photon-5-amd64-v1.34.1---vmware.1-vkr.4":                             "v1.34.1+vmware.1",
	} {
		if got := kubeletVersion(image, m); got != want {
			t.Errorf("kubeletVersion(%q) = %q, want %q", image, got, want)
		}
	}
}
