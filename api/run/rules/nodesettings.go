package rules

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Proxy is settings.network.proxy (and the TkgServiceConfiguration's
// spec.proxy) in every API version: the same JSON shape.
type Proxy struct {
	HTTPProxy  *string  `json:"httpProxy,omitempty"`
	HTTPSProxy *string  `json:"httpsProxy,omitempty"`
	NoProxy    []string `json:"noProxy,omitempty"`
}

// Trust is settings.network.trust (and the TkgServiceConfiguration's
// spec.trust) in every API version.
type Trust struct {
	AdditionalTrustedCAs []TrustedCA `json:"additionalTrustedCAs,omitempty"`
}

// TrustedCA is a named CA certificate; Data is the base64 of its PEM.
type TrustedCA struct {
	Name string `json:"name"`
	Data string `json:"data"`
}

// ServiceDefaults are the TkgServiceConfiguration's defaults for clusters
// that leave these settings out.
type ServiceDefaults struct {
	// CNI is spec.defaultCNI; "" means DefaultCNI.
	CNI   string
	Proxy *Proxy
	Trust *Trust
}

// ValidateProxy checks that the proxy URLs are http(s) URLs with a host.
// path is settings.network.proxy.
func ValidateProxy(path *field.Path, p *Proxy) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	for name, raw := range map[string]*string{"httpProxy": p.HTTPProxy, "httpsProxy": p.HTTPSProxy} {
		if raw == nil {
			continue
		}
		u, err := url.Parse(*raw)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(path.Child(name), *raw, err.Error()))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, field.Invalid(path.Child(name), *raw, "must be an http:// or https:// URL"))
		case u.Host == "":
			errs = append(errs, field.Invalid(path.Child(name), *raw, "must name the proxy's host"))
		}
	}
	return errs
}

// ValidateTrust checks that each additional CA has a unique name usable as
// a file name and that its data is base64 of PEM certificates. path is
// settings.network.trust.
func ValidateTrust(path *field.Path, t *Trust) field.ErrorList {
	if t == nil {
		return nil
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, ca := range t.AdditionalTrustedCAs {
		p := path.Child("additionalTrustedCAs").Index(i)
		errs = append(errs, ValidateUniqueName(p.Child("name"), ca.Name, names, validation.IsDNS1123Subdomain)...)
		if _, err := TrustedPEM(ca); err != nil {
			errs = append(errs, field.Invalid(p.Child("data"), "<certificate>", err.Error()))
		}
	}
	return errs
}

// TrustedPEM decodes a CA's data: base64 of one or more PEM certificates.
func TrustedPEM(ca TrustedCA) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(ca.Data)
	if err != nil {
		return nil, fmt.Errorf("must be base64 of a PEM certificate: %w", err)
	}
	rest, n := raw, 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("must hold only certificates, found a PEM %q block", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("must be base64 of a PEM certificate; no certificate found")
	}
	return raw, nil
}
