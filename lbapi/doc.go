// Package lbapi is the room for load-balancer VIPs: VirtualMachineServices
// and core Services of type LoadBalancer get a VIP from the ranges of a
// LoadBalancer object (lbapi.opensupervisor.io), and the HAProxy appliance
// it describes is programmed through its Data Plane API to forward the VIP
// to the Service's backends (the selected VMs' IPs, or the ready endpoints
// of EndpointSlices).
//
//   - controller/ is the controller and the LoadBalancer validating
//     webhook, both registered by the supervisor's one setup function;
//   - allocator/ assigns VIPs, with no client;
//   - haproxy/ plans and applies HAProxy configuration through
//     dataplane.API;
//   - dataplane/ is the Data Plane API client (v3 and v2), dataplane/fake
//     an in-memory one for unit tests;
//   - appliance/ is the Data Plane API-compatible appliance over real
//     HAProxy that the embedded stack and the tests run where no appliance
//     exists.
//
// lbapi owns the LoadBalancer's status; on the Services it serves (no
// loadBalancerClass, or lbapi.opensupervisor.io/haproxy),
// status.loadBalancer.ingress and the LoadBalancerReady condition; and on
// HAProxy the frontends and backends whose names carry haproxy.Prefix.
//
// It must not touch anything else: not the spec or metadata of Services,
// not Services of another class, not other HAProxy configuration. It
// imports API types (and Cluster API's patch helper), nothing of
// TanzuKubernetesClusters or govmomi, and it reaches the appliance only
// over the Data Plane API.
package lbapi
