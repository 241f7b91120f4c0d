// Package chaos is the fault suite: it breaks vCenter, the HAProxy
// appliance and guest clusters on purpose while the supervisor is working,
// and checks afterwards what a user would notice: no VM cloned twice, no
// VM, IP address allocation, VIP or HAProxy object left behind once its
// object is deleted, every object converged again, and no secret of the
// test's own fixtures (passwords, tokens, private keys) in any log the
// supervisor wrote.
//
// Each scenario is one file holding one test (vcenter_test.go,
// loadbalancer_test.go, guest_test.go); another scenario is added as
// another file calling runScenario. Faults come from the fixtures
// themselves: vcsim's fault injection rules (govmomi's
// simulator.FaultInjectionRule) and SessionManager.TerminateSession, the
// harness's Forwarder in front of the Data Plane API, SIGKILL to HAProxy's
// master, and power operations in vCenter behind Cluster API's back.
//
// `go test ./test/chaos/` (so `make test`) runs the short form: one run of
// each scenario with short outages, the same code paths. `make chaos` sets
// CHAOS_FULL=1: several runs per scenario, a 60 s Data Plane API outage,
// and the results table written to bench/RESULTS.md between the
// <!-- chaos:start --> and <!-- chaos:end --> markers.
//
// The suite runs on the test harness (its own kube-apiserver and vcsim per
// test binary); its loopback addresses are its own: workload networks in
// 127.48.0.0/16, VIPs in 127.49.0.0/16, backends in 127.50.0.0/16, guest
// API servers on ports 35000-35999.
//
// It holds tests only; nothing may import it.
package chaos
