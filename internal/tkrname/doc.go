// Package tkrname reads what a content library item's name says about the
// Kubernetes release its node image carries, the way vSphere's subscribed
// library names them (ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067,
// ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1), and maps
// TanzuKubernetesRelease names to versions and back.
//
// It is pure: it must not import anything of the project or talk to an API
// server or vCenter. The library sync, the release controller, the TKC
// controller and the simulated guests all read names through it, so they
// agree on what a name means.
package tkrname
