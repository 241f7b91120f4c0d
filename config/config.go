package config

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

//go:embed crd/bases/*.yaml webhook/manifests.yaml
var crdFiles embed.FS

// Webhooks returns the validating and mutating webhook configurations.
func Webhooks() ([]*admissionv1.MutatingWebhookConfiguration, []*admissionv1.ValidatingWebhookConfiguration, error) {
	return loadWebhooks(crdFiles, "webhook/manifests.yaml")
}

// CRDs returns the project's CustomResourceDefinitions.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	return loadCRDs(crdFiles, "crd/bases/*.yaml")
}

// loadCRDs parses the CustomResourceDefinitions of the files of fsys that
// match glob. Any other kind is an error: it would not be installed.
func loadCRDs(fsys fs.FS, glob string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var out []*apiextensionsv1.CustomResourceDefinition
	err := eachDocument(fsys, glob, func(kind string, doc []byte) error {
		if kind != "CustomResourceDefinition" {
			return fmt.Errorf("unexpected kind %q", kind)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		out = append(out, crd)
		return yaml.UnmarshalStrict(doc, crd)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loadWebhooks parses the mutating and validating webhook configurations of
// the files of fsys that match glob. Any other kind is an error.
func loadWebhooks(fsys fs.FS, glob string) ([]*admissionv1.MutatingWebhookConfiguration, []*admissionv1.ValidatingWebhookConfiguration, error) {
	var mutating []*admissionv1.MutatingWebhookConfiguration
	var validating []*admissionv1.ValidatingWebhookConfiguration
	err := eachDocument(fsys, glob, func(kind string, doc []byte) error {
		switch kind {
		case "MutatingWebhookConfiguration":
			m := &admissionv1.MutatingWebhookConfiguration{}
			mutating = append(mutating, m)
			return yaml.UnmarshalStrict(doc, m)
		case "ValidatingWebhookConfiguration":
			v := &admissionv1.ValidatingWebhookConfiguration{}
			validating = append(validating, v)
			return yaml.UnmarshalStrict(doc, v)
		}
		return fmt.Errorf("unexpected kind %q", kind)
	})
	if err != nil {
		return nil, nil, err
	}
	return mutating, validating, nil
}

// eachDocument calls decode with the kind and text of every YAML document
// of the files of fsys that match glob, in file order. Strict decoding is
// decode's: a field a manifest misspells fails here, not silently at
// install. Empty documents (comments only) are skipped; a glob that matches
// nothing is an error, since the embedded files are known at build time.
func eachDocument(fsys fs.FS, glob string, decode func(kind string, doc []byte) error) error {
	paths, err := fs.Glob(fsys, glob)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("no manifest matches %s", glob)
	}
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("failed to read %s: %w", p, err)
			}
			var head map[string]any
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return fmt.Errorf("failed to parse %s: %w", p, err)
			}
			if len(head) == 0 {
				continue
			}
			kind, _ := head["kind"].(string)
			if err := decode(kind, doc); err != nil {
				return fmt.Errorf("failed to parse %s: %w", p, err)
			}
		}
	}
	return nil
}
