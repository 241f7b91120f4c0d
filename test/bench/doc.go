// Package bench measures the supervisor end to end on the test harness (a
// real kube-apiserver and etcd, vcsim, the real manager) and writes what it
// measured to bench/RESULTS.md. Run it with `make bench`.
//
// It holds benchmarks only; nothing may import it.
package bench
