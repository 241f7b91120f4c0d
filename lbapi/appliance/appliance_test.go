package appliance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/test/tcptest"
)

func TestTransactionProgramsHAProxy(t *testing.T) {
	a, c := start(t, appliance.Options{})

	// Wrong password: 401 with a Basic challenge.
	bad := &client{t: t, base: a.URL, user: "admin", pass: "nope", ver: "v3"}
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
	tid := c.begin()
	q := "?transaction_id=" + tid
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
		c.mustWrite("POST", s.path, s.body, 202)
	}
	// Nothing changed before the commit.
	if c.version() != v {
		t.Fatal("a transaction must not change the configuration before it is committed")
	}
	id := c.commit(tid)
	if c.version() != v+1 {
		t.Fatalf("commit must bump the version to %d, got %d", v+1, c.version())
	}
	eventually(t, "the VIP "+vip, func() string { return tcptest.Reach(vip) }, "backend-a")
	if r := c.waitReload(id); r.Status != "succeeded" || r.ReloadTimestamp == 0 {
		t.Errorf("want reload %s succeeded with a timestamp, got %+v", id, r)
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

	// A name the schema refuses: 422 with the violation's code, as go-swagger answers.
	code, _, body := c.do("POST", "/v3/services/haproxy/configuration/backends?transaction_id="+c.begin(), map[string]any{"name": "has space", "mode": "tcp"})
	var apiErr struct {
		Code    int
		Message string
	}
	_ = json.Unmarshal(body, &apiErr)
	if code != 422 || apiErr.Code != 605 || apiErr.Message != "name in body should match '^[A-Za-z0-9-_.:]+$'" {
		t.Errorf("bad name: want 422 code 605 with the pattern, got %d %s", code, body)
	}

	// A transaction opened before another commit is outdated: 406.
	t1, t2 := c.begin(), c.begin()
	c.mustWrite("POST", "/v3/services/haproxy/configuration/backends?transaction_id="+t1, map[string]any{"name": "one", "mode": "tcp"}, 202)
	c.mustWrite("POST", "/v3/services/haproxy/configuration/backends?transaction_id="+t2, map[string]any{"name": "two", "mode": "tcp"}, 202)
	id = c.commit(t1)
	if code, _, body := c.do("PUT", "/v3/services/haproxy/transactions/"+t2, nil); code != 406 {
		t.Errorf("outdated commit: want 406, got %d %s", code, body)
	}

	// force_reload reloads before answering, and not with a transaction.
	c.waitReload(id)
	before := a.Reloads()
	c.mustWrite("DELETE", fmt.Sprintf("/v3/services/haproxy/configuration/backends/one?version=%d&force_reload=true", c.version()), nil, 204)
	if a.Reloads() != before+1 {
		t.Errorf("force_reload: want the reload done before the answer, reloads %d -> %d", before, a.Reloads())
	}
	if code, _, body := c.do("DELETE", "/v3/services/haproxy/configuration/backends/two?force_reload=true&transaction_id="+c.begin(), nil); code != 400 {
		t.Errorf("force_reload with a transaction: want 400, got %d %s", code, body)
	}
}
