package wcp

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
)

// KeysSecretDataKey holds the keys in the Secret, as JSON.
const KeysSecretDataKey = "keys.json"

// storedKeys is the Secret's keys.json.
type storedKeys struct {
	Keys []storedKey `json:"keys"`
}

type storedKey struct {
	// JWK is the private key as a JSON Web Key.
	JWK       json.RawMessage `json:"jwk"`
	CreatedAt time.Time       `json:"createdAt"`
	RetiredAt *time.Time      `json:"retiredAt,omitempty"`
}

func keyID(public jose.JSONWebKey) (string, error) {
	sum, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("failed to compute a key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

func decodeKeys(secret *corev1.Secret) ([]signingKey, error) {
	raw, ok := secret.Data[KeysSecretDataKey]
	if !ok || len(raw) == 0 {
		return nil, nil
	}
	var stored storedKeys
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, fmt.Errorf("failed to decode %s of Secret %s/%s: %w", KeysSecretDataKey, secret.Namespace, secret.Name, err)
	}
	keys := make([]signingKey, 0, len(stored.Keys))
	for i, s := range stored.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(s.JWK); err != nil {
			return nil, fmt.Errorf("failed to decode key %d of Secret %s/%s: %w", i, secret.Namespace, secret.Name, err)
		}
		if jwk.IsPublic() || jwk.KeyID == "" {
			return nil, fmt.Errorf("key %d of Secret %s/%s is not a private key with an id", i, secret.Namespace, secret.Name)
		}
		keys = append(keys, signingKey{jwk: jwk, createdAt: s.CreatedAt, retiredAt: s.RetiredAt})
	}
	return keys, nil
}

func encodeKeys(keys []signingKey) ([]byte, error) {
	stored := storedKeys{Keys: make([]storedKey, 0, len(keys))}
	for _, key := range keys {
		raw, err := key.jwk.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("failed to encode %s: %w", key, err)
		}
		stored.Keys = append(stored.Keys, storedKey{JWK: raw, CreatedAt: key.createdAt, RetiredAt: key.retiredAt})
	}
	return json.Marshal(stored)
}

// errNotVisibleYet: another replica created the Secret, but the client's
// cache has not seen it yet.
var errNotVisibleYet = errors.New("the signing keys Secret exists but is not visible yet")

// Ensure makes sure the Secret exists with an active key, creating it when
// missing. Replicas starting together agree on one key: the first Create
// wins and the others read what it wrote. Every replica calls it before
// serving.
func (k *KeySet) Ensure(ctx context.Context) error {
	notVisibleYet := func(err error) bool { return errors.Is(err, errNotVisibleYet) }
	return retry.OnError(retry.DefaultBackoff, notVisibleYet, func() error { return k.ensureOnce(ctx) })
}

func (k *KeySet) ensureOnce(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithValues("Secret", k.key.String())
	secret := &corev1.Secret{}
	err := k.writer.Get(ctx, k.key, secret)
	switch {
	case err == nil:
		return k.repair(ctx, secret)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("failed to get the signing keys Secret %s: %w", k.key, err)
	}
	created, err := k.create(ctx)
	switch {
	case err == nil:
		log.Info("Created the login service's signing keys", "keyID", created)
		return nil
	case !apierrors.IsAlreadyExists(err):
		return fmt.Errorf("failed to create the signing keys Secret %s: %w", k.key, err)
	}
	log.V(4).Info("Another replica created the signing keys first")
	err = k.writer.Get(ctx, k.key, secret)
	switch {
	case apierrors.IsNotFound(err):
		return errNotVisibleYet
	case err != nil:
		return fmt.Errorf("failed to get the signing keys Secret %s: %w", k.key, err)
	}
	return k.repair(ctx, secret)
}

// create makes the Secret with one new key and returns the key's id.
func (k *KeySet) create(ctx context.Context) (string, error) {
	key, err := newSigningKey(k.clock.Now())
	if err != nil {
		return "", err
	}
	data, err := encodeKeys([]signingKey{key})
	if err != nil {
		return "", err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: k.key.Namespace, Name: k.key.Name},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{KeysSecretDataKey: data},
	}
	if err := k.writer.Create(ctx, secret); err != nil {
		return "", err
	}
	return key.jwk.KeyID, nil
}

// repair gives an existing Secret an active key if it has none (emptied by
// hand) and drops expired keys; it writes only when something changed.
func (k *KeySet) repair(ctx context.Context, secret *corev1.Secret) error {
	keys, err := decodeKeys(secret)
	if err != nil {
		return err
	}
	now := k.clock.Now()
	kept := withoutExpired(keys, now, k.lifetime)
	_, hasActive := active(kept)
	if hasActive && len(kept) == len(keys) {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		_, err := k.update(ctx, func(keys []signingKey) ([]signingKey, error) {
			if _, ok := active(keys); ok {
				return keys, nil
			}
			key, err := newSigningKey(now)
			return append(keys, key), err
		})
		return err
	})
}

// Rotate makes a new key the active one; the old key is retired and its
// public half kept until every token it signed has expired. It returns the
// new key's id.
func (k *KeySet) Rotate(ctx context.Context) (string, error) {
	var id string
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		id, err = k.update(ctx, func(keys []signingKey) ([]signingKey, error) {
			return rotated(keys, k.clock.Now())
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("failed to rotate the signing keys in Secret %s: %w", k.key, err)
	}
	ctrl.LoggerFrom(ctx).Info("Rotated the login service's signing key", "Secret", k.key.String(), "keyID", id)
	return id, nil
}

// RotateIfOlder rotates when the active key is older than maxAge, and says
// whether it did.
func (k *KeySet) RotateIfOlder(ctx context.Context, maxAge time.Duration) (bool, error) {
	key, err := k.signer(ctx)
	if err != nil {
		return false, err
	}
	if k.clock.Since(key.createdAt) < maxAge {
		return false, nil
	}
	if _, err := k.Rotate(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// rotated retires the active key and appends a new one.
func rotated(keys []signingKey, now time.Time) ([]signingKey, error) {
	out := make([]signingKey, 0, len(keys)+1)
	for _, key := range keys {
		if key.retiredAt == nil {
			retired := now.UTC()
			key.retiredAt = &retired
		}
		out = append(out, key)
	}
	key, err := newSigningKey(now)
	if err != nil {
		return nil, err
	}
	return append(out, key), nil
}

// update reads the Secret through the writer, changes its keys with
// change, drops expired keys and writes it back (a conflict is returned for
// the caller to retry). It returns the active key's id.
func (k *KeySet) update(ctx context.Context, change func([]signingKey) ([]signingKey, error)) (string, error) {
	secret := &corev1.Secret{}
	if err := k.writer.Get(ctx, k.key, secret); err != nil {
		return "", fmt.Errorf("failed to get the signing keys Secret %s: %w", k.key, err)
	}
	keys, err := decodeKeys(secret)
	if err != nil {
		return "", err
	}
	if keys, err = change(keys); err != nil {
		return "", err
	}
	keys = withoutExpired(keys, k.clock.Now(), k.lifetime)
	key, ok := active(keys)
	if !ok {
		return "", errors.New("no active key after the change")
	}
	data, err := encodeKeys(keys)
	if err != nil {
		return "", err
	}
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	secret.Data[KeysSecretDataKey] = data
	if err := k.writer.Update(ctx, secret); err != nil {
		return "", err
	}
	return key.jwk.KeyID, nil
}
