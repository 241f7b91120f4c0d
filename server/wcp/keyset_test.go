package wcp

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
)

// storedKeyIDs reads the key ids kept in the Secret, oldest first.
func storedKeyIDs(t *testing.T, e *env) []string {
	t.Helper()
	secret := &corev1.Secret{}
	if err := e.client.Get(context.Background(), e.keys.SecretKey(), secret); err != nil {
		t.Fatal(err)
	}
	keys, err := decodeKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.jwk.KeyID)
	}
	return ids
}

func TestConcurrentEnsureMakesOneKey(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).Build()
	clk := clocktesting.NewFakePassiveClock(testStart)
	const replicas = 8
	sets := make([]*KeySet, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range sets {
		var err error
		if sets[i], err = NewKeySet(KeySetOptions{Client: c, Clock: clk}); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = sets[i].Ensure(ctx)
		}(i)
	}
	wg.Wait()

	var first string
	for i, s := range sets {
		if errs[i] != nil {
			t.Fatalf("replica %d: Ensure: %v", i, errs[i])
		}
		kid, err := s.ActiveKeyID(ctx)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		if first == "" {
			first = kid
		}
		if kid != first {
			t.Errorf("replica %d signs with %q, replica 0 with %q", i, kid, first)
		}
	}
	secrets := &corev1.SecretList{}
	if err := c.List(ctx, secrets); err != nil {
		t.Fatal(err)
	}
	keys, err := decodeKeys(&secrets.Items[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 || len(keys) != 1 {
		t.Errorf("%d Secrets with %d keys, want 1 with 1", len(secrets.Items), len(keys))
	}
	if s := secrets.Items[0]; s.Namespace != "vmware-system-supervisor" || s.Name != "wcp-login-signing-keys" {
		t.Errorf("Secret %s/%s, want vmware-system-supervisor/wcp-login-signing-keys", s.Namespace, s.Name)
	}
}

func TestEnsureIsIdempotentAndRepairs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	before := storedKeyIDs(t, e)
	if err := e.keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if after := storedKeyIDs(t, e); len(after) != 1 || after[0] != before[0] {
		t.Errorf("a second Ensure changed the keys from %v to %v", before, after)
	}

	// Emptied by hand: Ensure gives it a key again.
	secret := &corev1.Secret{}
	if err := e.client.Get(ctx, e.keys.SecretKey(), secret); err != nil {
		t.Fatal(err)
	}
	secret.Data = nil
	if err := e.client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := e.keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := storedKeyIDs(t, e); len(ids) != 1 || ids[0] == before[0] {
		t.Errorf("keys after repairing an empty Secret = %v, want one new key", ids)
	}
}

func TestSecretHoldsPrivateJWKsOnlyThere(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	secret := &corev1.Secret{}
	if err := e.client.Get(ctx, e.keys.SecretKey(), secret); err != nil {
		t.Fatal(err)
	}
	var stored storedKeys
	if err := json.Unmarshal(secret.Data[KeysSecretDataKey], &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.Keys) != 1 || !strings.Contains(string(stored.Keys[0].JWK), `"d":`) {
		t.Fatalf("the Secret should hold one private JWK, has %s", secret.Data[KeysSecretDataKey])
	}
	set, err := e.keys.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(set)
	if strings.Contains(string(raw), `"d":`) {
		t.Errorf("the JWKS holds a private key: %s", raw)
	}
	keys, _ := decodeKeys(secret)
	if s := keys[0].String(); strings.Contains(s, "{") || !strings.Contains(s, keys[0].jwk.KeyID) {
		t.Errorf("a key prints as %q, want its id only", s)
	}
}

func TestKeyRotationRotatesOldKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, nil)
	first, _ := e.keys.ActiveKeyID(ctx)
	checked := make(chan bool)
	ticks := make(chan time.Time)
	r := &KeyRotation{Keys: e.keys, MaxAge: 24 * time.Hour, checked: checked}
	go r.run(ctx, ticks)

	e.clock.Step(23 * time.Hour)
	ticks <- e.clock.Now()
	if <-checked {
		t.Error("rotated a key younger than MaxAge")
	}
	e.clock.Step(time.Hour)
	ticks <- e.clock.Now()
	if !<-checked {
		t.Error("kept a key as old as MaxAge")
	}
	if now, _ := e.keys.ActiveKeyID(ctx); now == first {
		t.Error("the active key did not change")
	}
	if !r.NeedLeaderElection() {
		t.Error("every replica would rotate")
	}
}

func TestKeySetReadsFromTheReader(t *testing.T) {
	ctx := context.Background()
	// The writer has the keys, the reader (a cache) has not seen them:
	// signing reports that rather than making keys of its own.
	writer := fake.NewClientBuilder().WithScheme(api.NewScheme()).Build()
	reader := fake.NewClientBuilder().WithScheme(api.NewScheme()).Build()
	keys, err := NewKeySet(KeySetOptions{Client: writer, Reader: reader})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.ActiveKeyID(ctx); err == nil {
		t.Error("signing found keys the reader does not have")
	}
}
