// Package controller is lbapi's controller. It serves VirtualMachineServices
// of type LoadBalancer (backends: the IPs of the VMs their selector
// matches) and core Services of type LoadBalancer without a class or of
// class LoadBalancerClass (backends: their ready EndpointSlice endpoints)
// from the HAProxy appliance a LoadBalancer object describes, and holds the
// LoadBalancer validating webhook.
//
// Every change enqueues one shared key once changes paused for a short
// batch window (batcher.go), so the changes of a burst are handled
// together, in one Data Plane API transaction, whose commit reloads HAProxy
// at once (force_reload) at most once per ReloadEvery. A sync runs in phases (controller.go, phases.go): connect,
// collect, allocate (rebuilt from the Services' status before anything new
// is handed out, so a restart never moves a VIP), program, publish; its
// status changes are computed by pure functions (status.go) and written by
// one deferred patch per object with Cluster API's patch helper. A
// Service's VIP is written to its status only after HAProxy's RUNNING
// process shows its proxies (stats/native, checked by lbapi/haproxy: the
// Data Plane API with a signal reload reports a reload HAProxy could not
// apply as succeeded, and a TCP connect may be answered by whoever holds
// the address) and then the VIP accepts a TCP connection. Both waits run
// off the sync's worker, which stays free to commit the next changes: the
// confirmer (confirmer.go) watches the commit until HAProxy runs it, the
// prober (probe.go) checks the VIPs, and each wakes the sync when it knows.
// A sync that converged runs again after ResyncInterval (10 s): one GET of
// the appliance's configuration version while nothing changed, and an
// appliance that came back without lbapi's configuration is programmed
// again without waiting for a Service to change.
//
// It owns the LoadBalancer's status, and on the Services it serves
// status.loadBalancer.ingress and the LoadBalancerReady condition; it must
// not write their spec or metadata, other conditions, or Services of
// another loadBalancerClass, and on HAProxy it changes only what
// lbapi/haproxy owns.
package controller
