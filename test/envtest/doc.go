// Package envtest runs a test binary's tests against the embedded room's
// Kubernetes control plane (embedded/kube) with one manager serving the
// webhooks: RunSuite is a TestMain body, and NewNamespace gives each test a
// namespace of its own. It starts no controllers of its own (the suite's
// Setup registers them) and waits with test/wait.
//
// Only _test.go files may import it.
package envtest
