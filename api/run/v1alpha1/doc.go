// Package v1alpha1 holds run.tanzu.vmware.com/v1alpha1 as vSphere 7.0 (U1,
// U2) serves it: the TanzuKubernetesCluster with one control-plane and one
// worker pool sized by count and class and a release chosen by version hint
// (converted to and from the v1alpha3 hub), TanzuKubernetesRelease and
// TkgServiceConfiguration (same shape as v1alpha2's, converted to the
// v1alpha3 hub through it).
//
// Defaulting and validation of what every version shares (spec.settings,
// release resolution, counts and classes) are rules'; this package names
// its own field paths and must not restate them.
//
// +kubebuilder:object:generate=true
// +groupName=run.tanzu.vmware.com
package v1alpha1
