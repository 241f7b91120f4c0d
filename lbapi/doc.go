// Package lbapi is the room for load-balancer VIPs: VirtualMachineServices
// and Services of type LoadBalancer get a VIP from a LoadBalancer's ranges
// (allocator/), and HAProxy is programmed through its Data Plane API. It
// imports API types only; nothing of TanzuKubernetesClusters or govmomi.
//
// Status (issue 3): the LoadBalancer API, the VIP allocator (allocator/), the
// appliance (appliance/: real HAProxy behind a Data Plane API v3 endpoint),
// the Data Plane API client (dataplane/) and the plan/apply of proxies
// (haproxy/) are in; the controller that feeds them from
// VirtualMachineServices and Services is not yet.
package lbapi
