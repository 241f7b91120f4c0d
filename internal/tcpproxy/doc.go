// Package tcpproxy forwards TCP connections from a listening address to a
// target, for the embedded stack's simulated guests and for tests that cut a
// connection on purpose. It knows nothing of what flows through it.
package tcpproxy
