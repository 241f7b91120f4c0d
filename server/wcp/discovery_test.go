package wcp

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/apis/apiserver"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/apiserver/pkg/apis/apiserver/validation"
	authenticationcel "k8s.io/apiserver/pkg/authentication/cel"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestDiscoveryOverTLS fetches the discovery document and the JWKS as
// kube-apiserver does: from the https issuer URL, under its path.
func TestDiscoveryOverTLS(t *testing.T) {
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	srv.StartTLS()
	defer srv.Close()
	issuer := srv.URL + "/oidc/issuer"
	e := newEnv(t, nil, func(o *Options) { o.Tokens.IssuerURL = issuer })
	handler = e.server

	var doc map[string]any
	getJSON(t, srv, issuer+"/.well-known/openid-configuration", &doc)
	want := map[string]any{
		"issuer":                                issuer,
		"jwks_uri":                              issuer + "/openid/v1/jwks",
		"response_types_supported":              []any{"id_token"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"ES256"},
		"claims_supported":                      []any{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "groups"},
	}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("discovery document =\n%v\nwant\n%v", doc, want)
	}

	var set jose.JSONWebKeySet
	getJSON(t, srv, doc["jwks_uri"].(string), &set)
	active, _ := e.keys.ActiveKeyID(context.Background())
	if len(set.Keys) != 1 || set.Keys[0].KeyID != active || set.Keys[0].Algorithm != "ES256" || set.Keys[0].Use != "sig" {
		t.Errorf("JWKS = %+v, want the active key %q for ES256 signatures", set.Keys, active)
	}
	claims, _ := verifyWithJWKS(t, set, e.login(t, "bob@vsphere.local", "bob-pw"))
	if claims.Issuer != issuer {
		t.Errorf("iss = %q, want the discovery document's issuer %q", claims.Issuer, issuer)
	}
}

func getJSON(t *testing.T, srv *httptest.Server, url string, into any) {
	t.Helper()
	resp, err := srv.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}

// TestJWTAuthenticatorIsValid checks the authenticator entry with
// kube-apiserver's own validation of AuthenticationConfiguration.
func TestJWTAuthenticatorIsValid(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	o := TokenOptions{IssuerURL: testIssuer, Audience: testAudience}

	cfg := &apiserverv1.AuthenticationConfiguration{JWT: []apiserverv1.JWTAuthenticator{JWTAuthenticator(o, caPEM)}}
	cfg.APIVersion, cfg.Kind = apiserverv1.SchemeGroupVersion.String(), "AuthenticationConfiguration"
	internal := decodeAuthenticationConfiguration(t, cfg)
	compiler := authenticationcel.NewDefaultCompiler()
	if errs := validation.ValidateAuthenticationConfiguration(compiler, internal, nil); len(errs) > 0 {
		t.Errorf("kube-apiserver refuses the configuration: %v", errs.ToAggregate())
	}
	m := internal.JWT[0].ClaimMappings
	if m.Username.Claim != "sub" || *m.Username.Prefix != "sso:" || m.Groups.Claim != "groups" || *m.Groups.Prefix != "sso:" {
		t.Errorf("claim mappings = %+v, want sub and groups prefixed sso:", m)
	}
}

func decodeAuthenticationConfiguration(t *testing.T, cfg *apiserverv1.AuthenticationConfiguration) *apiserver.AuthenticationConfiguration {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := apiserver.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := apiserverv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	internal := &apiserver.AuthenticationConfiguration{}
	if _, _, err := serializer.NewCodecFactory(scheme).UniversalDecoder().Decode(raw, nil, internal); err != nil {
		t.Fatalf("kube-apiserver cannot decode the configuration: %v", err)
	}
	return internal
}

func TestBanner(t *testing.T) {
	for _, tc := range []struct {
		name string
		objs []*supervisorArgs
		host string
		want string
	}{
		{"the only Supervisor", []*supervisorArgs{{"domain-c8", "192.168.10.2", "Authorized use only"}}, "whatever:443", "Authorized use only"},
		{"no banner", []*supervisorArgs{{"domain-c8", "192.168.10.2", ""}}, "192.168.10.2", ""},
		{"no Supervisor yet", nil, "192.168.10.2", ""},
		{"by endpoint among several", []*supervisorArgs{{"domain-c8", "192.168.10.2", "eight"}, {"domain-c9", "192.168.20.2", "nine"}}, "192.168.20.2:443", "nine"},
		{"by DNS name among several", []*supervisorArgs{{"domain-c8", "192.168.10.2", "eight"}, {"domain-c9", "192.168.20.2", "nine"}}, "SUPERVISOR-domain-c8.lab.local", "eight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var objs []client.Object
			for _, a := range tc.objs {
				objs = append(objs, supervisor(a.name, a.endpoint, a.banner, "supervisor-"+a.name+".lab.local"))
			}
			e := newEnv(t, objs)
			r := httptest.NewRequest(http.MethodGet, "/wcp/loginbanner", nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			e.server.ServeHTTP(w, r)
			if w.Code != http.StatusOK || w.Body.String() != tc.want {
				t.Errorf("banner = %d %q, want 200 %q", w.Code, w.Body, tc.want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

type supervisorArgs struct{ name, endpoint, banner string }
