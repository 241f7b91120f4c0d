package wcp

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestLoginWrongPasswordIs401AndWritesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	before := &corev1.Secret{}
	if err := e.client.Get(ctx, e.keys.SecretKey(), before); err != nil {
		t.Fatal(err)
	}

	w := e.do(http.MethodPost, "/wcp/login", "", basic("alice@vsphere.local", "s3cret-guess"))
	wantJSONError(t, w, http.StatusUnauthorized, errUnauthenticated)
	if strings.Contains(w.Body.String(), "s3cret-guess") || strings.Contains(w.Body.String(), "session_id") {
		t.Errorf("the 401 body echoes the password or holds a session: %s", w.Body)
	}
	if w.Header().Get("WWW-Authenticate") == "" {
		t.Error("a 401 without WWW-Authenticate")
	}

	after := &corev1.Secret{}
	if err := e.client.Get(ctx, e.keys.SecretKey(), after); err != nil {
		t.Fatal(err)
	}
	secrets := &corev1.SecretList{}
	if err := e.client.List(ctx, secrets); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion || len(secrets.Items) != 1 {
		t.Errorf("a refused login wrote to Kubernetes: Secret version %s→%s, %d Secrets", before.ResourceVersion, after.ResourceVersion, len(secrets.Items))
	}
}

func TestLoginAnswers(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name   string
		body   string
		header http.Header
		status int
		code   string
	}{
		{"no credentials", "{}", nil, http.StatusUnauthorized, errUnauthenticated},
		{"a bearer token instead of credentials", "{}", bearer("x.y.z"), http.StatusUnauthorized, errUnauthenticated},
		{"unknown user", "{}", basic("nobody@vsphere.local", "pw"), http.StatusUnauthorized, errUnauthenticated},
		{"empty user", "{}", basic("", "pw"), http.StatusUnauthorized, errUnauthenticated},
		{"a body that is not JSON", "guest please", basic("alice@vsphere.local", "alice-pw"), http.StatusBadRequest, errBadRequest},
		{"a body too large", `{"guest_cluster_name":"` + strings.Repeat("x", maxRequestBody) + `"}`, basic("alice@vsphere.local", "alice-pw"), http.StatusRequestEntityTooLarge, errBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantJSONError(t, e.do(http.MethodPost, "/wcp/login", tc.body, tc.header), tc.status, tc.code)
		})
	}

	t.Run("empty body and DOMAIN\\user", func(t *testing.T) {
		w := e.do(http.MethodPost, "/wcp/login", "", basic(`VSPHERE.LOCAL\alice`, "alice-pw"))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"session_id":"ey`) {
			t.Errorf("login = %d %s, want 200 with a session_id", w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), "guest_cluster") {
			t.Errorf("a Supervisor login answers guest fields: %s", w.Body)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
	})

	t.Run("GET is not a login", func(t *testing.T) {
		if w := e.do(http.MethodGet, "/wcp/login", "", basic("alice@vsphere.local", "alice-pw")); w.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET /wcp/login = %d, want 405", w.Code)
		}
	})
}

func TestLoginWhileVCenterIsUnreachableIs503(t *testing.T) {
	e := newEnv(t, nil)
	e.auth.unavailable = true
	w := e.do(http.MethodPost, "/wcp/login", "{}", basic("alice@vsphere.local", "alice-pw"))
	wantJSONError(t, w, http.StatusServiceUnavailable, errUnavailable)
	if w.Header().Get("Retry-After") == "" {
		t.Error("a 503 without Retry-After")
	}
}

func TestLoginRateLimits(t *testing.T) {
	limits := &RateLimits{PerUser: Rate{Every: time.Minute, Burst: 2}, PerSource: Rate{Every: time.Second, Burst: 4}}
	e := newEnv(t, nil, func(o *Options) { o.RateLimits = limits })

	t.Run("per user", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			wantJSONError(t, e.do(http.MethodPost, "/wcp/login", "", basic("alice@vsphere.local", "guess")), http.StatusUnauthorized, errUnauthenticated)
		}
		calls := e.auth.callCount()
		// Another spelling of the user name is the same SSO user.
		w := e.do(http.MethodPost, "/wcp/login", "", basic(`VSPHERE.LOCAL\ALICE`, "alice-pw"))
		wantJSONError(t, w, http.StatusTooManyRequests, errRateLimited)
		if got := w.Header().Get("Retry-After"); got != "60" {
			t.Errorf("Retry-After = %q, want 60", got)
		}
		if e.auth.callCount() != calls {
			t.Error("a rate-limited login reached vCenter")
		}
		e.clock.Step(time.Minute)
		e.login(t, "alice@vsphere.local", "alice-pw")
	})

	t.Run("per source", func(t *testing.T) {
		e.clock.Step(time.Hour) // every bucket full again
		for _, u := range []string{"bob", "carol", "dave", "erin"} {
			e.do(http.MethodPost, "/wcp/login", "", basic(u+"@vsphere.local", "guess"))
		}
		w := e.do(http.MethodPost, "/wcp/login", "", basic("administrator@vsphere.local", "admin-pw"))
		wantJSONError(t, w, http.StatusTooManyRequests, errRateLimited)
	})

	t.Run("bearer requests are not counted", func(t *testing.T) {
		e.clock.Step(time.Hour)
		token := e.login(t, "bob@vsphere.local", "bob-pw")
		for i := 0; i < 10; i++ {
			if w := e.do(http.MethodGet, "/wcp/workloads", "", bearer(token)); w.Code != http.StatusOK {
				t.Fatalf("workloads with a token, request %d: %d %s", i, w.Code, w.Body)
			}
		}
	})
}

func TestLimiterTableForgetsIdleBuckets(t *testing.T) {
	table := newLimiterTable(Rate{Every: time.Second, Burst: 2})
	for _, key := range []string{"a", "b", "c"} {
		table.allow(key, testStart)
	}
	table.allow("d", testStart.Add(time.Minute))
	if len(table.buckets) != 1 {
		t.Errorf("%d buckets after the others idled, want 1", len(table.buckets))
	}
	if ok, _ := newLimiterTable(Rate{}).allow("x", testStart); !ok {
		t.Error("a zero Rate limits")
	}
}
