// Package namespace keeps the VM classes of the supervisor's namespaces:
//
//   - the vCenter-wide class catalog (vspherev1.VMClassCatalogNamespace),
//     seeded once with vSphere's 16 default classes (EnsureCatalog,
//     CatalogSeeder): what vCenter lists under
//     namespace-management/virtual-machine-classes;
//   - Kubernetes Namespaces labelled as vSphere Namespaces by hand, without a
//     VSphereNamespace owning them (the Reconciler): each gets the 16
//     default classes unless a class of that name is already there, so an
//     admin's edits stand.
//
// Namespaces a VSphereNamespace controls are left alone: they get exactly
// the classes their vm_service_spec names, from controllers/vspherenamespace.
// It only writes Kubernetes objects and never deletes a class.
package namespace
