package wcp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// Defaults of KeySetOptions.
const (
	DefaultKeySecretName = "wcp-login-signing-keys"
	// DefaultTokenLifetime is how long a login's token is valid, as
	// vSphere's: 10 hours.
	DefaultTokenLifetime = 10 * time.Hour
)

// SigningAlgorithm is the tokens' JWS algorithm.
const SigningAlgorithm = jose.ES256

// clockSkew is how far the clocks of the replicas and kube-apiservers may
// disagree: a verifier accepts a token this long after it expired, so a
// retired key is kept this much longer too.
const clockSkew = jwt.DefaultLeeway

// KeySetOptions configure a KeySet.
type KeySetOptions struct {
	// Client writes the Secret (and reads it when Reader is nil).
	Client client.Client
	// Reader reads the Secret on every sign and verify; the manager's
	// cache serves it. Client when nil.
	Reader client.Reader
	// Namespace and Name of the Secret; vmware-system-supervisor and
	// wcp-login-signing-keys when empty.
	Namespace string
	Name      string
	// TokenLifetime is how long issued tokens are valid, and so how long
	// a retired key's public half must still be served. 10h when zero.
	TokenLifetime time.Duration
	// Clock is the time; the real one when nil.
	Clock clock.PassiveClock
}

// KeySet is the login service's signing keys, kept in a Kubernetes Secret so
// that every replica signs with the same key: one active ECDSA P-256 key
// that signs new tokens, and the retired keys whose tokens may still be
// valid, whose public halves stay in the JWKS until those tokens expired.
// Private keys never leave the Secret and this process's memory, and are
// never logged.
type KeySet struct {
	writer   client.Client
	reader   client.Reader
	key      types.NamespacedName
	lifetime time.Duration
	clock    clock.PassiveClock

	mu sync.Mutex
	// cachedVersion is the resourceVersion cached was decoded from.
	cachedVersion string
	cached        []signingKey
}

// NewKeySet returns the key set kept in the Secret o names. Call Ensure
// before signing.
func NewKeySet(o KeySetOptions) (*KeySet, error) {
	if o.Client == nil {
		return nil, errors.New("a KeySet needs a Kubernetes client")
	}
	k := &KeySet{
		writer:   o.Client,
		reader:   o.Reader,
		key:      types.NamespacedName{Namespace: o.Namespace, Name: o.Name},
		lifetime: o.TokenLifetime,
		clock:    o.Clock,
	}
	if k.reader == nil {
		k.reader = o.Client
	}
	if k.key.Namespace == "" {
		k.key.Namespace = vspherev1.SupervisorSystemNamespace
	}
	if k.key.Name == "" {
		k.key.Name = DefaultKeySecretName
	}
	if k.lifetime <= 0 {
		k.lifetime = DefaultTokenLifetime
	}
	if k.clock == nil {
		k.clock = clock.RealClock{}
	}
	return k, nil
}

// TokenLifetime is how long the tokens signed with this set are valid.
func (k *KeySet) TokenLifetime() time.Duration { return k.lifetime }

// SecretKey names the Secret the keys are kept in.
func (k *KeySet) SecretKey() types.NamespacedName { return k.key }

// signingKey is one key of the set.
type signingKey struct {
	jwk       jose.JSONWebKey // private
	createdAt time.Time
	// retiredAt is when a newer key replaced this one; nil for the
	// active key.
	retiredAt *time.Time
}

// String names the key by its id only, so that printing a key by mistake
// never prints its private half.
func (s signingKey) String() string { return "signing key " + s.jwk.KeyID }

// newSigningKey generates an ECDSA P-256 key named by its JWK thumbprint.
func newSigningKey(now time.Time) (signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return signingKey{}, fmt.Errorf("failed to generate a signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(SigningAlgorithm), Use: "sig"}
	kid, err := keyID(jwk.Public())
	if err != nil {
		return signingKey{}, err
	}
	jwk.KeyID = kid
	return signingKey{jwk: jwk, createdAt: now.UTC()}, nil
}

// expired says whether every token the key signed has expired.
func (s signingKey) expired(now time.Time, lifetime time.Duration) bool {
	return s.retiredAt != nil && now.After(s.retiredAt.Add(lifetime+clockSkew))
}

// active returns the key that signs new tokens: the newest one not
// retired.
func active(keys []signingKey) (signingKey, bool) {
	var found *signingKey
	for i := range keys {
		if keys[i].retiredAt == nil && (found == nil || keys[i].createdAt.After(found.createdAt)) {
			found = &keys[i]
		}
	}
	if found == nil {
		return signingKey{}, false
	}
	return *found, true
}

// withoutExpired drops the retired keys whose tokens all expired.
func withoutExpired(keys []signingKey, now time.Time, lifetime time.Duration) []signingKey {
	out := make([]signingKey, 0, len(keys))
	for _, key := range keys {
		if !key.expired(now, lifetime) {
			out = append(out, key)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].createdAt.Before(out[j].createdAt) })
	return out
}

// keys returns the set as the Reader sees it, decoding the Secret only
// when it changed.
func (k *KeySet) keys(ctx context.Context) ([]signingKey, error) {
	secret := &corev1.Secret{}
	if err := k.reader.Get(ctx, k.key, secret); err != nil {
		return nil, fmt.Errorf("failed to get the signing keys Secret %s: %w", k.key, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if secret.ResourceVersion != "" && secret.ResourceVersion == k.cachedVersion {
		return k.cached, nil
	}
	keys, err := decodeKeys(secret)
	if err != nil {
		return nil, err
	}
	k.cachedVersion, k.cached = secret.ResourceVersion, keys
	return keys, nil
}

// signer returns the active key.
func (k *KeySet) signer(ctx context.Context) (signingKey, error) {
	keys, err := k.keys(ctx)
	if err != nil {
		return signingKey{}, err
	}
	key, ok := active(keys)
	if !ok {
		return signingKey{}, fmt.Errorf("the signing keys Secret %s has no active key", k.key)
	}
	return key, nil
}

// publicKey returns the public half of key id if tokens it signed may
// still be valid.
func (k *KeySet) publicKey(ctx context.Context, id string) (jose.JSONWebKey, bool, error) {
	keys, err := k.keys(ctx)
	if err != nil {
		return jose.JSONWebKey{}, false, err
	}
	for _, key := range withoutExpired(keys, k.clock.Now(), k.lifetime) {
		if key.jwk.KeyID == id {
			return key.jwk.Public(), true, nil
		}
	}
	return jose.JSONWebKey{}, false, nil
}

// JWKS returns the public keys that verify unexpired tokens, oldest first.
func (k *KeySet) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := k.keys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, key := range withoutExpired(keys, k.clock.Now(), k.lifetime) {
		set.Keys = append(set.Keys, key.jwk.Public())
	}
	return set, nil
}

// ActiveKeyID is the id (kid) of the key that signs new tokens.
func (k *KeySet) ActiveKeyID(ctx context.Context) (string, error) {
	key, err := k.signer(ctx)
	if err != nil {
		return "", err
	}
	return key.jwk.KeyID, nil
}
