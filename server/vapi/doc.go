// Package vapi serves vCenter's Workload Management REST API with
// vCenter's wire format, in both the /api form and the legacy /rest form:
// sessions, namespace-management clusters (enable, disable, status), vSphere
// Namespaces and VM classes. It turns those calls into the supervisor's
// Kubernetes objects (Supervisor, VSphereNamespace, VirtualMachineClass in
// the class catalog, the HAProxy credentials Secret) and reads vCenter for
// what really exists; the controllers do the rest.
//
// It owns no controller and writes no status; it must not talk to HAProxy
// except to probe a Data Plane API given in an enable spec, and it never
// keeps or logs a password outside the credentials Secret.
package vapi
