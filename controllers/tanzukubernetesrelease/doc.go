// Package tanzukubernetesrelease publishes the Kubernetes releases the
// supervisor ships (templates.Releases) as TanzuKubernetesReleases, as
// vSphere's TKR controller does from the content library: a release is
// Ready once its node image is published as a ClusterVirtualMachineImage,
// and lists the newer releases it can be upgraded to.
//
// It only writes TanzuKubernetesReleases; it must not talk to vCenter (the
// image catalog in providers/vsphere publishes the images it reads).
package tanzukubernetesrelease
