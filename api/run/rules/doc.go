// Package rules holds the version-independent rules of the
// run.tanzu.vmware.com API: the defaults and checks of a
// TanzuKubernetesCluster's spec.settings (network, proxy, trust, storage),
// written once for every version over rules' own Settings shape, which is
// every version's JSON shape; the CIDR, node count, VM class, storage class
// and upgrade checks that return field errors at the path the caller names;
// and TanzuKubernetesRelease version matching and resolution.
//
// Each API version composes these rules with its own field paths, so a user
// of v1alpha1 reads "spec.topology.controlPlane.count" and a user of v1alpha3
// reads "spec.topology.controlPlane.replicas"; a rule that reads the same in
// every version belongs here, not in a version package. Facts that live
// elsewhere (VM classes of a namespace, releases, the supervisor's own
// ranges, the TkgServiceConfiguration's defaults) come through the small
// Lookups interface: tests pass a fake, the webhook a client.
//
// It must not import an API version (they import it) and must not talk to
// an API server: defaulting and validation are pure functions of an object
// and its Facts.
package rules
