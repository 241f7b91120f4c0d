// Package catalog publishes the node images of the supervisor's content
// library as ClusterVirtualMachineImages, so that VirtualMachines (and
// TanzuKubernetesReleases) can name them. vCenter stays the source of truth:
// an image whose library item is gone is deleted.
//
// It owns only the ClusterVirtualMachineImages it labels with
// ManagedByLabel; it must not touch images others publish, and it does not
// deploy images into vCenter (the VM service's inventory does, on first use).
package catalog
