// Package v1alpha2 holds run.tanzu.vmware.com/v1alpha2 as vSphere 7 U3
// serves it: the TanzuKubernetesCluster with node pools, per-pool releases
// and volumes, TanzuKubernetesRelease and TkgServiceConfiguration, all
// converted to and from the v1alpha3 hub.
//
// The TanzuKubernetesCluster defaults and validates through the hub, plus
// its deprecated distribution; this package must not restate v1alpha3's or
// rules' checks.
//
// +kubebuilder:object:generate=true
// +groupName=run.tanzu.vmware.com
package v1alpha2
