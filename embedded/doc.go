// Package embedded is the supervisor's embedded stack, started by
// `supervisor --embedded` (`make run`): the vCenter simulator with its
// simulated guests (embedded/vcsim), a local Kubernetes control plane
// (embedded/kube), HAProxy behind the project's Data Plane API appliance,
// simulated guest clusters (embedded/guestsim) and the objects a fresh
// supervisor starts with (embedded/fixtures). It is product, not test code:
// it must not import anything under test/, and tests build on it like any
// user. It registers controllers only through manager.Setup.
package embedded
