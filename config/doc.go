// Package config holds the deployment manifests and hands them to Go code:
// the project's CRDs (crd/bases), RBAC (rbac) and webhook configurations
// (webhook/manifests.yaml), which `make manifests` generates from the API
// types and kubebuilder markers, and the CRDs and webhook configurations of
// Cluster API (crd/capi, webhook/capi), which hack/capi-manifests.sh copies
// from the module go.mod pins. It embeds the CRDs and webhook
// configurations and parses them, strictly and refusing unexpected kinds,
// so that the embedded supervisor and the tests install exactly what was
// generated.
//
// The same files are the production install, a kustomize tree:
// default/ (`kubectl apply -k config/default`) puts crd/, rbac/, webhook/
// and manager/ (the Deployment) in one namespace and gives every CRD a
// Webhook conversion stanza (crd/patches); certmanager/ is the component
// that lets cert-manager make the webhook certificate instead of the
// binary. test/install checks that install on a plain API server.
//
// It must not change what it parses (an installer rewrites webhook client
// configurations and conversion settings for where it serves them), and
// the generated YAML here is never edited by hand: change the API types or
// markers, or the Cluster API pin, and run `make manifests` (which also
// lists the CRD files in crd/kustomization.yaml).
package config
