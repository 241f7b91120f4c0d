// Package iprange parses and walks IPv4 address ranges as admins write them
// (CIDRs or start-end ranges). It is pure and shared by the workload-network
// IPAM (providers/vsphere/ipam) and the VIP allocator (lbapi).
//
// It must not import anything of the project or talk to an API server.
package iprange
