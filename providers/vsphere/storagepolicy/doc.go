// Package storagepolicy reads vCenter's storage policies (SPBM profiles)
// and names the Kubernetes StorageClass each maps to, as vSphere with
// Tanzu names them. It only reads: it must not create, change or delete
// policies, and it holds no Kubernetes client.
package storagepolicy
