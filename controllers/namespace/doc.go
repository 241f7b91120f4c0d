// Package namespace reconciles vSphere Namespaces (Kubernetes Namespaces
// labelled as such): it installs the 16 default VirtualMachineClasses in each
// unless a class of that name is already there, so an admin's edits stand.
// It only writes Kubernetes objects.
package namespace
