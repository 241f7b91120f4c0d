package wcp

import (
	"net/http"
	"net/url"
	"strings"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Paths of OIDC discovery, under the issuer URL's path.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/openid/v1/jwks"
)

// discoveryDocument is the part of OpenID Connect Discovery 1.0 a JWT
// authenticator reads, as Kubernetes' own service account issuer serves it.
type discoveryDocument struct {
	Issuer                           string   `json:"issuer"`
	JWKSURI                          string   `json:"jwks_uri"`
	ResponseTypesSupported           []string `json:"response_types_supported"`
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
}

// issuerPath is the path of issuerURL, "" for the root.
func issuerPath(issuerURL string) string {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

func (s *Server) discoveryDocument() discoveryDocument {
	return discoveryDocument{
		Issuer:                           s.tokens.IssuerURL,
		JWKSURI:                          s.tokens.IssuerURL + JWKSPath,
		ResponseTypesSupported:           []string{"id_token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{string(SigningAlgorithm)},
		ClaimsSupported:                  []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", GroupsClaim},
	}
}

// serveDiscovery: GET {issuer}/.well-known/openid-configuration.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, s.discoveryDocument())
}

// serveJWKS: GET {issuer}/openid/v1/jwks, the public keys of unexpired
// tokens. Kept short in caches: a verifier that meets an unknown key id
// fetches the set again anyway.
func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.keys.JWKS(r.Context())
	if err != nil {
		ctrl.LoggerFrom(r.Context()).Error(err, "Failed to read the signing keys")
		writeError(w, http.StatusServiceUnavailable, errUnavailable, "the signing keys are not available yet")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	writeJSONBody(w, http.StatusOK, set)
}

// JWTAuthenticator is the entry of kube-apiserver's structured
// authentication configuration (AuthenticationConfiguration.jwt) that
// trusts the login tokens: issuer and audience as o says, caPEM the CA of
// the certificate the issuer URL serves, and claim mappings that name users
// and groups sso:<name>@<domain>, as vSphere Namespaces' RoleBindings do.
func JWTAuthenticator(o TokenOptions, caPEM string) apiserverv1.JWTAuthenticator {
	return apiserverv1.JWTAuthenticator{
		Issuer: apiserverv1.Issuer{
			URL:                  o.IssuerURL,
			Audiences:            []string{o.Audience},
			CertificateAuthority: caPEM,
		},
		ClaimMappings: apiserverv1.ClaimMappings{
			Username: apiserverv1.PrefixedClaimOrExpression{Claim: "sub", Prefix: ptr.To(KubernetesNamePrefix)},
			Groups:   apiserverv1.PrefixedClaimOrExpression{Claim: GroupsClaim, Prefix: ptr.To(KubernetesNamePrefix)},
		},
	}
}
