package wcp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
)

// fetchJWKS reads the JWKS the way a JWT authenticator does: the discovery
// document's jwks_uri.
func fetchJWKS(t *testing.T, e *env) jose.JSONWebKeySet {
	t.Helper()
	w := e.do(http.MethodGet, "/openid/.well-known/openid-configuration", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("discovery: %d %s", w.Code, w.Body)
	}
	var doc discoveryDocument
	decode(t, w, &doc)
	path := strings.TrimPrefix(doc.JWKSURI, "https://192.168.10.2")
	w = e.do(http.MethodGet, path, "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("jwks at %s: %d %s", path, w.Code, w.Body)
	}
	var set jose.JSONWebKeySet
	decode(t, w, &set)
	return set
}

// verifyWithJWKS checks raw's signature against the published keys,
// picking the key by kid, and returns its claims.
func verifyWithJWKS(t *testing.T, set jose.JSONWebKeySet, raw string) (Claims, jose.Header) {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	header := tok.Headers[0]
	keys := set.Key(header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys with kid %q, want 1", len(keys), header.KeyID)
	}
	if !keys[0].IsPublic() {
		t.Fatal("the JWKS publishes a private key")
	}
	var claims Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("the signature does not verify with the published key: %v", err)
	}
	return claims, header
}

func TestLoginTokenVerifiesAgainstTheJWKS(t *testing.T) {
	e := newEnv(t, nil)
	raw := e.login(t, "alice@vsphere.local", "alice-pw")

	claims, header := verifyWithJWKS(t, fetchJWKS(t, e), raw)
	if header.Algorithm != "ES256" || header.ExtraHeaders[jose.HeaderType] != "JWT" {
		t.Errorf("header = alg %q typ %v, want ES256 JWT", header.Algorithm, header.ExtraHeaders[jose.HeaderType])
	}
	if claims.Issuer != testIssuer || !reflect.DeepEqual([]string(claims.Audience), []string{testAudience}) {
		t.Errorf("iss %q aud %v, want %q %q", claims.Issuer, claims.Audience, testIssuer, testAudience)
	}
	if claims.Subject != "alice@vsphere.local" || !reflect.DeepEqual(claims.Groups, []string{"devs@vsphere.local"}) {
		t.Errorf("sub %q groups %v, want alice@vsphere.local [devs@vsphere.local]", claims.Subject, claims.Groups)
	}
	if !claims.IssuedAt.Time().Equal(testStart) || !claims.NotBefore.Time().Equal(testStart) ||
		!claims.Expiry.Time().Equal(testStart.Add(10*time.Hour)) || claims.ID == "" {
		t.Errorf("iat %v nbf %v exp %v jti %q, want %v, %v, +10h and an id", claims.IssuedAt.Time(), claims.NotBefore.Time(), claims.Expiry.Time(), claims.ID, testStart, testStart)
	}
	// kube-apiserver prefixes sub and groups with sso:, which must give
	// the names the access list's RoleBindings use.
	if got, want := KubernetesNamePrefix+claims.Subject, vspherenamespace.SubjectName("alice", "vsphere.local"); got != want {
		t.Errorf("Kubernetes user = %q, RoleBinding subject = %q", got, want)
	}
	if got, want := KubernetesNamePrefix+claims.Groups[0], vspherenamespace.SubjectName("devs", "vsphere.local"); got != want {
		t.Errorf("Kubernetes group = %q, RoleBinding subject = %q", got, want)
	}
	if _, err := e.server.Verifier().Verify(context.Background(), raw); err != nil {
		t.Errorf("the service's own verifier refuses its token: %v", err)
	}
}

func TestRotationKeepsOldTokensValid(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	oldToken := e.login(t, "alice@vsphere.local", "alice-pw")
	oldKey, _ := e.keys.ActiveKeyID(ctx)

	e.clock.Step(time.Hour)
	newKey, err := e.keys.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newKey == oldKey {
		t.Fatal("Rotate kept the same key")
	}
	newToken := e.login(t, "alice@vsphere.local", "alice-pw")

	set := fetchJWKS(t, e)
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys after a rotation, want the old and the new", len(set.Keys))
	}
	if _, h := verifyWithJWKS(t, set, newToken); h.KeyID != newKey {
		t.Errorf("a new token is signed with %q, want the new key %q", h.KeyID, newKey)
	}
	if _, h := verifyWithJWKS(t, set, oldToken); h.KeyID != oldKey {
		t.Errorf("the old token names key %q, want %q", h.KeyID, oldKey)
	}
	for name, raw := range map[string]string{"old": oldToken, "new": newToken} {
		if _, err := e.server.Verifier().Verify(ctx, raw); err != nil {
			t.Errorf("the %s token is refused after the rotation: %v", name, err)
		}
	}

	// Once every token of the old key expired (10h after it retired, plus
	// the skew allowance), its public key goes, first from the JWKS, then
	// from the Secret at the next write.
	e.clock.Step(10*time.Hour + 2*time.Minute)
	if set := fetchJWKS(t, e); len(set.Keys) != 1 || set.Keys[0].KeyID != newKey {
		t.Errorf("JWKS after the old key's tokens expired = %v, want only %q", keyIDs(set), newKey)
	}
	if _, err := e.keys.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	stored := storedKeyIDs(t, e)
	if len(stored) != 2 || stored[0] != newKey {
		t.Errorf("Secret keeps %v, want %q (retired) and the newest", stored, newKey)
	}
}

func keyIDs(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func TestVerifierRefuses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	good := e.login(t, "alice@vsphere.local", "alice-pw")
	kid, _ := e.keys.ActiveKeyID(ctx)

	otherIssuer, err := NewTokenVerifier(e.keys, TokenOptions{IssuerURL: "https://elsewhere.example.com", Audience: testAudience, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	otherAudience, err := NewTokenVerifier(e.keys, TokenOptions{IssuerURL: testIssuer, Audience: "someone-else", Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	foreignKey := signWithForeignKey(t, e, "foreign-kid")
	foreignKeyOurKid := signWithForeignKey(t, e, kid)
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	payload = []byte(strings.Replace(string(payload), "alice@", "admin@", 1))
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	for _, tc := range []struct {
		name     string
		verifier *TokenVerifier
		raw      string
	}{
		{"another issuer", otherIssuer, good},
		{"another audience", otherAudience, good},
		{"a key not in the set", e.server.Verifier(), foreignKey},
		{"a foreign key under our kid", e.server.Verifier(), foreignKeyOurKid},
		{"a tampered payload", e.server.Verifier(), tampered},
		{"not a JWT", e.server.Verifier(), "not-a-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.verifier.Verify(ctx, tc.raw); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify = %v, want ErrInvalidToken", err)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		e.clock.Step(10*time.Hour + 2*time.Minute)
		if _, err := e.server.Verifier().Verify(ctx, good); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify of an expired token = %v, want ErrInvalidToken", err)
		}
		w := e.do(http.MethodGet, "/wcp/workloads", "", bearer(good))
		wantJSONError(t, w, http.StatusUnauthorized, errUnauthenticated)
	})
}

// signWithForeignKey signs valid-looking claims with a key the set does
// not hold.
func signWithForeignKey(t *testing.T, e *env, kid string) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	raw, err := jwt.Signed(signer).Claims(Claims{Claims: jwt.Claims{
		Issuer: testIssuer, Audience: jwt.Audience{testAudience}, Subject: "mallory@vsphere.local",
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
	}, Groups: []string{"Administrators@vsphere.local"}}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
