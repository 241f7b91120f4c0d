// Package manager wires the supervisor: Setup registers every controller,
// webhook and runnable of the supervisor on a controller-runtime manager.
// The binary, the embedded stack and the test harness all call it, so the
// tests run the wiring that ships and a new controller is added here and
// nowhere else. It owns no behaviour of its own: it must not reconcile,
// serve HTTP or talk to vCenter itself, only hand options to the rooms that
// do.
package manager
