// Package lbapi is the room for load-balancer VIPs: VirtualMachineServices
// and Services of type LoadBalancer get a VIP from a LoadBalancer's ranges
// (allocator/), and HAProxy is programmed through its Data Plane API. It
// imports API types only; nothing of TanzuKubernetesClusters or govmomi.
//
// Status (issue 3): the LoadBalancer API, the VIP allocator (allocator/), the
// appliance (appliance/: real HAProxy behind a Data Plane API v3 endpoint),
// the Data Plane API client (dataplane/) and the plan/apply of proxies
// (haproxy/) and the controller for VirtualMachineServices (controller/) are
// in; core Services with EndpointSlices, the LoadBalancer object's status and
// webhook, and the wiring into the embedded stack are not yet.
package lbapi
