// Package inventory finds the vCenter objects the VM service places VMs on
// (datacenter, cluster resource pool, per-namespace VM folders, hosts,
// portgroups, datastores, node images) and remembers them, so that steady
// work costs no lookups. Everything it caches is immutable for the life of
// the object in vCenter (a moref never names another object).
//
// It creates only folders and the image cache's VMs; it must not create,
// change or destroy workload VMs (the VM service does) and it knows nothing
// of Kubernetes objects.
package inventory
