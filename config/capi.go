package config

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
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
	paths, err := fs.Glob(capiFiles, "crd/capi/*.yaml")
	if err != nil {
		return nil, err
	}
	out := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(paths))
	for _, p := range paths {
		b, err := capiFiles.ReadFile(p)
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", p, err)
		}
		out = append(out, crd)
	}
	return out, nil
}

// ClusterAPIWebhooks returns the mutating and validating webhook
// configurations of the three Cluster API providers. Their clientConfig names
// a Service; an installer rewrites it to wherever the manager serves webhooks.
func ClusterAPIWebhooks() ([]*admissionv1.MutatingWebhookConfiguration, []*admissionv1.ValidatingWebhookConfiguration, error) {
	paths, err := fs.Glob(capiFiles, "webhook/capi/*.yaml")
	if err != nil {
		return nil, nil, err
	}
	var mutating []*admissionv1.MutatingWebhookConfiguration
	var validating []*admissionv1.ValidatingWebhookConfiguration
	for _, p := range paths {
		b, err := capiFiles.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		for _, doc := range bytes.Split(b, []byte("\n---\n")) {
			var head struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return nil, nil, fmt.Errorf("failed to parse %s: %w", p, err)
			}
			switch head.Kind {
			case "MutatingWebhookConfiguration":
				m := &admissionv1.MutatingWebhookConfiguration{}
				if err := yaml.UnmarshalStrict(doc, m); err != nil {
					return nil, nil, fmt.Errorf("failed to parse %s: %w", p, err)
				}
				mutating = append(mutating, m)
			case "ValidatingWebhookConfiguration":
				v := &admissionv1.ValidatingWebhookConfiguration{}
				if err := yaml.UnmarshalStrict(doc, v); err != nil {
					return nil, nil, fmt.Errorf("failed to parse %s: %w", p, err)
				}
				validating = append(validating, v)
			case "":
				// the empty document before the leading "---"
			default:
				return nil, nil, fmt.Errorf("unexpected %s in %s", head.Kind, p)
			}
		}
	}
	return mutating, validating, nil
}
