// Package v1alpha3 holds run.tanzu.vmware.com/v1alpha3, the
// TanzuKubernetesCluster of vSphere 8 (TKG 2): v1alpha2 without the
// deprecated distribution, with failure domains on node pools, and the
// TanzuKubernetesRelease (tanzu-framework's v1alpha3 schema) and
// TkgServiceConfiguration of vSphere 8. It is the storage version and the
// conversion hub of all three: v1alpha1 and v1alpha2 convert to and from it. JSON field names follow VMware's so manifests written for
// vSphere apply unchanged.
//
// Defaulting and validation of what every version shares (spec.settings,
// release resolution, counts and classes) are rules'; this package names
// its own field paths and must not restate them.
//
// +kubebuilder:object:generate=true
// +groupName=run.tanzu.vmware.com
package v1alpha3
