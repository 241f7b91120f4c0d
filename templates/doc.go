// Package templates holds the supervisor's embedded assets: the Kubernetes
// releases it ships node images for, the node image descriptor the embedded
// vCenter simulator's content library is filled with, the CNI addons guest
// clusters get (Antrea, Calico) and sample manifests.
// It holds data only and imports nothing of the project.
package templates
