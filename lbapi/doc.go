// Package lbapi is the room for load-balancer VIPs: VirtualMachineServices
// and Services of type LoadBalancer get a VIP from a LoadBalancer's ranges
// (allocator/), and HAProxy is programmed through its Data Plane API. It
// imports API types only; nothing of TanzuKubernetesClusters or govmomi.
//
// Status (issue 3): the LoadBalancer API and the VIP allocator are in; the
// controller, the Data Plane API client and the appliance are not yet.
package lbapi
