// Package rules holds the version-independent rules of the
// run.tanzu.vmware.com API: the network defaults of a TanzuKubernetesCluster,
// CIDR, VM class, storage class and release checks that return field errors
// at the path the caller names, and TanzuKubernetesRelease version matching.
//
// Each API version composes these rules with its own field paths, so a user
// of v1alpha1 reads "spec.topology.controlPlane.count" and a user of v1alpha3
// reads "spec.topology.controlPlane.replicas". Facts that live elsewhere (VM
// classes of a namespace, releases, the supervisor's own ranges) come through
// the small Lookups interface: tests pass a fake, the webhook a client.
// Nothing here talks to an API server.
package rules
