package config

import (
	"embed"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// capiFiles are what hack/capi-manifests.sh copied from the Cluster API module
// go.mod pins: CRDs of core, KubeadmControlPlane and the kubeadm bootstrap
// provider, and their webhook configurations, one file per provider.
//
//go:embed crd/capi/*.yaml webhook/capi/*.yaml
var capiFiles embed.FS

// ClusterAPICRDs returns the CRDs of Cluster API core, KubeadmControlPlane and
// the kubeadm bootstrap provider (without conversion settings: the installer
// points conversion at the webhook server that serves /convert).
func ClusterAPICRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	return loadCRDs(capiFiles, "crd/capi/*.yaml")
}

// ClusterAPIWebhooks returns the mutating and validating webhook
// configurations of the three Cluster API providers. Their clientConfig names
// a Service; an installer rewrites it to wherever the manager serves webhooks.
func ClusterAPIWebhooks() ([]*admissionv1.MutatingWebhookConfiguration, []*admissionv1.ValidatingWebhookConfiguration, error) {
	return loadWebhooks(capiFiles, "webhook/capi/*.yaml")
}
