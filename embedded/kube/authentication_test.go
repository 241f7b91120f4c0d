package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/test/wait"
)

// issuer is an OIDC issuer over TLS serving the discovery document and
// the public key of its signing key, as the supervisor's login service does.
type issuer struct {
	srv *httptest.Server
	key *ecdsa.PrivateKey

	mu   sync.Mutex
	keys []jose.JSONWebKey
}

// rotate adds a new signing key; the old one stays published, as the
// login service keeps a retired key until its tokens expire.
func (is *issuer) rotate(t *testing.T, kid string) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = append(is.keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	return key
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		set := jose.JSONWebKeySet{Keys: slices.Clone(is.keys)}
		is.mu.Unlock()
		_ = json.NewEncoder(w).Encode(set)
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.srv.Certificate().Raw}))
}

// token signs claims for sub with key k1, issued by iss, expiring at exp.
func token(t *testing.T, key *ecdsa.PrivateKey, iss, sub string, groups []string, exp time.Time) string {
	t.Helper()
	return tokenWith(t, key, "k1", iss, sub, groups, exp)
}

func tokenWith(t *testing.T, key *ecdsa.PrivateKey, kid, iss, sub string, groups []string, exp time.Time) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: iss, Subject: sub, Audience: jwt.Audience{"supervisor"},
		IssuedAt: jwt.NewNumericDate(exp.Add(-time.Hour)), NotBefore: jwt.NewNumericDate(exp.Add(-time.Hour)), Expiry: jwt.NewNumericDate(exp),
	}).Claims(map[string]any{"groups": groups}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// whoAmI asks the API server who the bearer of raw is.
func whoAmI(env *Environment, raw string) (authenticationv1.UserInfo, error) {
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.BearerToken = raw
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, err
	}
	return review.Status.UserInfo, nil
}

// Once TrustJWT names an issuer, kube-apiserver accepts its tokens, naming
// users and groups with the configured prefix, without a restart; tokens
// signed by another key, expired or from another issuer are refused.
func TestTrustJWT(t *testing.T) {
	env, err := StartWith(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	is := newIssuer(t)
	good := token(t, is.key, is.srv.URL, "devops@vsphere.local", []string{"devs@vsphere.local"}, time.Now().Add(time.Hour))
	if _, err := whoAmI(env, good); !apierrors.IsUnauthorized(err) {
		t.Fatalf("a token is accepted before its issuer is trusted: %v", err)
	}

	err = env.TrustJWT(apiserverv1.JWTAuthenticator{
		Issuer: apiserverv1.Issuer{URL: is.srv.URL, CertificateAuthority: is.caPEM(), Audiences: []string{"supervisor"}},
		ClaimMappings: apiserverv1.ClaimMappings{
			Username: apiserverv1.PrefixedClaimOrExpression{Claim: "sub", Prefix: ptr.To("sso:")},
			Groups:   apiserverv1.PrefixedClaimOrExpression{Claim: "groups", Prefix: ptr.To("sso:")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var user authenticationv1.UserInfo
	wait.For(t, 2*time.Minute, "kube-apiserver to trust the issuer", func() (bool, error) {
		user, err = whoAmI(env, good)
		return err == nil, err
	})
	if user.Username != "sso:devops@vsphere.local" || !slices.Contains(user.Groups, "sso:devs@vsphere.local") {
		t.Errorf("the token's user is %q in %v; want sso:devops@vsphere.local in sso:devs@vsphere.local", user.Username, user.Groups)
	}

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{
		"forged (another key)": token(t, other, is.srv.URL, "devops@vsphere.local", nil, time.Now().Add(time.Hour)),
		"expired":              token(t, is.key, is.srv.URL, "devops@vsphere.local", nil, time.Now().Add(-time.Minute)),
		"another issuer":       token(t, is.key, "https://127.0.0.1:1", "devops@vsphere.local", nil, time.Now().Add(time.Hour)),
	} {
		if _, err := whoAmI(env, raw); !apierrors.IsUnauthorized(err) {
			t.Errorf("a %s token: %v; want 401", name, err)
		}
	}
	// A rotation: tokens of the new key are accepted (the API server
	// fetches the keys again for an unknown key id) and those of the old
	// key still are.
	newKey := is.rotate(t, "k2")
	rotated := tokenWith(t, newKey, "k2", is.srv.URL, "devops@vsphere.local", nil, time.Now().Add(time.Hour))
	wait.For(t, 2*time.Minute, "a token of the new key to be accepted", func() (bool, error) {
		_, err := whoAmI(env, rotated)
		return err == nil, err
	})
	if _, err := whoAmI(env, good); err != nil {
		t.Errorf("a token of the old key after the rotation: %v", err)
	}
	// The admin's client certificate is still trusted.
	if _, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("the admin: %v", err)
	}
}
