// Package harness gives integration tests a whole supervisor on one machine:
// a real kube-apiserver and etcd (shared per test binary, started by Main), a
// fresh vcsim per test with the vSphere with Tanzu inventory, and managers
// running the real reconcilers, scoped to a namespace of the test's own so
// tests share nothing but the API server. Cleanup deletes what the test made,
// waits for the finalizers, and stops everything. The supervisor's
// controllers and webhooks are registered only through manager.Setup, the
// wiring the binary ships; the harness adds the simulated guests
// (embedded/guestsim) and waits with test/wait.
//
// Only _test.go files may import it.
package harness
