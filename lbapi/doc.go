// Package lbapi is the room for load-balancer VIPs: VirtualMachineServices
// and Services of type LoadBalancer get a VIP from a LoadBalancer's ranges
// (allocator/), and HAProxy is programmed through its Data Plane API. It
// imports API types only; nothing of TanzuKubernetesClusters or govmomi.
//
// Status (issue 3): the LoadBalancer API, the VIP allocator and the appliance
// (appliance/: real HAProxy behind a Data Plane API v3 endpoint) are in; the
// controller and the Data Plane API client are not yet.
package lbapi
