// Package vspherenamespace turns VSphereNamespaces (vCenter's
// namespaces/instances, written by the REST API in server/) into the
// Kubernetes objects a vSphere Namespace is made of: the Namespace of the
// same name, labelled and controlled by the VSphereNamespace; a copy of each
// VM class its vm_service_spec names, from the catalog in
// vspherev1.VMClassCatalogNamespace; a StorageClass per storage policy and
// ResourceQuotas for storage and for CPU and memory limits; RoleBindings
// for its access list, naming users and groups as the login names them
// (sso:<subject>@<domain>). It reports config_status and messages.
//
// Deleting a VSphereNamespace deletes its Namespace and waits until the
// namespace controller has emptied it (TanzuKubernetesClusters and VMs go
// through their own finalizers). It writes only Kubernetes objects: it
// never talks to vCenter except through the StoragePolicies interface it is
// given, never deletes the catalog's classes, and never deletes a
// StorageClass (they are shared; the Supervisor removes them on disable).
package vspherenamespace
