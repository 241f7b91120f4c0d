// Package allocator assigns VIPs to Services. It is pure (no client, no
// HAProxy): allocating is kept apart from programming, as MetalLB keeps its
// controller apart from its speakers. A restarted controller rebuilds it by
// Assign-ing every Service's current VIP (from status) before it Allocates
// anything new, so no VIP ever moves or doubles.
//
// It owns only the map of Service keys to VIPs of one sync; it must not
// read or write Kubernetes objects or HAProxy (lbapi/controller does).
package allocator
