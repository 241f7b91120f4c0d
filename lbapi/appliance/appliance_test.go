package appliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/open-supervisor/supervisor/internal/tcptest"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
)

type client struct {
	t    *testing.T
	base string
	user string
	pass string
}

func (c *client) do(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, out
}

func (c *client) version() int64 {
	c.t.Helper()
	code, _, body := c.do("GET", "/v3/services/haproxy/configuration/version", nil)
	v, err := strconv.ParseInt(string(bytes.TrimSpace(body)), 10, 64)
	if code != 200 || err != nil {
		c.t.Fatalf("version: %d %s", code, body)
	}
	return v
}

func TestTransactionProgramsHAProxy(t *testing.T) {
	a, err := appliance.Start(context.Background(), appliance.Options{
		Dir: t.TempDir(), Username: "admin", Password: "s3cret", ReloadDelay: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	c := &client{t: t, base: a.URL, user: "admin", pass: "s3cret"}

	// Wrong password: 401 with a Basic challenge.
	bad := &client{t: t, base: a.URL, user: "admin", pass: "nope"}
	if code, h, _ := bad.do("GET", "/v3/info", nil); code != 401 || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("want 401 with a challenge, got %d", code)
	}
	if code, _, body := c.do("GET", "/v3/info", nil); code != 200 || !bytes.Contains(body, []byte(`"version"`)) {
		t.Fatalf("info: %d %s", code, body)
	}

	backendPort := tcptest.Serve(t, "127.0.0.1:0", "backend-a").Port()
	vipPort := tcptest.FreePort(t)
	vip := fmt.Sprintf("127.30.0.7:%d", vipPort)

	v := c.version()
	code, _, body := c.do("POST", fmt.Sprintf("/v3/services/haproxy/transactions?version=%d", v), nil)
	if code != 201 {
		t.Fatalf("start transaction: %d %s", code, body)
	}
	var tx struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &tx)
	q := "?transaction_id=" + tx.ID
	steps := []struct {
		path string
		body any
	}{
		{"/v3/services/haproxy/configuration/backends" + q, map[string]any{"name": "lb-demo-80", "mode": "tcp", "balance": map[string]any{"algorithm": "roundrobin"}}},
		{"/v3/services/haproxy/configuration/backends/lb-demo-80/servers" + q, map[string]any{"name": "vm-a", "address": "127.0.0.1", "port": backendPort, "check": "enabled", "weight": 100}},
		{"/v3/services/haproxy/configuration/frontends" + q, map[string]any{"name": "lb-demo-80", "mode": "tcp", "default_backend": "lb-demo-80"}},
		{"/v3/services/haproxy/configuration/frontends/lb-demo-80/binds" + q, map[string]any{"name": "vip", "address": "127.30.0.7", "port": vipPort}},
	}
	for _, s := range steps {
		if code, _, body := c.do("POST", s.path, s.body); code != 202 {
			t.Fatalf("POST %s in a transaction: want 202, got %d %s", s.path, code, body)
		}
	}
	// Nothing changed before the commit.
	if c.version() != v {
		t.Fatal("a transaction must not change the configuration before it is committed")
	}
	code, h, body := c.do("PUT", "/v3/services/haproxy/transactions/"+tx.ID, nil)
	if code != 202 || h.Get("Reload-ID") == "" {
		t.Fatalf("commit: want 202 with a Reload-ID, got %d %s", code, body)
	}
	if c.version() != v+1 {
		t.Fatalf("commit must bump the version to %d, got %d", v+1, c.version())
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		got := tcptest.Reach(vip)
		if got == "backend-a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the VIP %s never forwarded to the backend: %q", vip, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a.Reloads() != 1 {
		t.Errorf("want one reload for one commit, got %d", a.Reloads())
	}

	// Stale version: 409; unknown backend: 404; no version: 400.
	if code, _, _ := c.do("POST", fmt.Sprintf("/v3/services/haproxy/configuration/backends?version=%d", v), map[string]any{"name": "late", "mode": "tcp"}); code != 409 {
		t.Errorf("stale version: want 409, got %d", code)
	}
	if code, _, _ := c.do("DELETE", fmt.Sprintf("/v3/services/haproxy/configuration/backends/nope?version=%d", v+1), nil); code != 404 {
		t.Errorf("unknown backend: want 404, got %d", code)
	}
	if code, _, _ := c.do("POST", "/v3/services/haproxy/configuration/backends", map[string]any{"name": "x", "mode": "tcp"}); code != 400 {
		t.Errorf("no version: want 400, got %d", code)
	}

	// A transaction opened before another commit is outdated: 406.
	v = c.version()
	_, _, b1 := c.do("POST", fmt.Sprintf("/v3/services/haproxy/transactions?version=%d", v), nil)
	_, _, b2 := c.do("POST", fmt.Sprintf("/v3/services/haproxy/transactions?version=%d", v), nil)
	var t1, t2 struct{ ID string }
	_ = json.Unmarshal(b1, &t1)
	_ = json.Unmarshal(b2, &t2)
	c.do("POST", "/v3/services/haproxy/configuration/backends?transaction_id="+t1.ID, map[string]any{"name": "one", "mode": "tcp"})
	c.do("POST", "/v3/services/haproxy/configuration/backends?transaction_id="+t2.ID, map[string]any{"name": "two", "mode": "tcp"})
	if code, _, body := c.do("PUT", "/v3/services/haproxy/transactions/"+t1.ID, nil); code != 202 {
		t.Fatalf("first commit: %d %s", code, body)
	}
	if code, _, body := c.do("PUT", "/v3/services/haproxy/transactions/"+t2.ID, nil); code != 406 {
		t.Errorf("outdated commit: want 406, got %d %s", code, body)
	}
}
