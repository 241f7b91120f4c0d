// Package tanzukubernetesrelease derives TanzuKubernetesReleases from the
// content library, as vSphere's TKR controller does from the subscribed
// library: every node image whose item name carries a release
// (ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067) makes that
// release exist, named as the item says, Ready while one of its images is
// published, and gone once the last of them has left the library. Each
// release lists the newer ones a cluster on it can be upgraded to.
//
// It reads the library through the ClusterVirtualMachineImages the image
// catalog (providers/vsphere/catalog) publishes from it, and only writes
// TanzuKubernetesReleases; it must not talk to vCenter.
package tanzukubernetesrelease
