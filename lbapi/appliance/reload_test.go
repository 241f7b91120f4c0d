package appliance_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/test/tcptest"
)

// TestFailedReloadIsReported: HAProxy 2.6 takes a reload signal as success
// even when the new configuration cannot bind; the appliance reports the
// reload failed, logs it, and the previous frontends keep serving.
func TestFailedReloadIsReported(t *testing.T) {
	var mu sync.Mutex
	var logs strings.Builder
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(&logs, prefix, args)
	}, funcr.Options{})
	_, c := start(t, appliance.Options{Log: log})
	cfg := c.svc() + "/configuration"

	addFrontend := func(name, vip string, port int32, backendPort uint16) string {
		t.Helper()
		tid := c.begin()
		q := "?transaction_id=" + tid
		c.mustWrite("POST", cfg+"/backends"+q, map[string]any{"name": name, "mode": "tcp"}, 202)
		c.mustWrite("POST", cfg+"/backends/"+name+"/servers"+q, map[string]any{"name": "vm", "address": "127.0.0.1", "port": backendPort}, 202)
		c.mustWrite("POST", cfg+"/frontends"+q, map[string]any{"name": name, "mode": "tcp", "default_backend": name}, 202)
		c.mustWrite("POST", cfg+"/frontends/"+name+"/binds"+q, map[string]any{"name": "vip", "address": vip, "port": port}, 202)
		return c.commit(tid)
	}

	backendPort := tcptest.Serve(t, "127.0.0.1:0", "backend-good").Port()
	goodPort := tcptest.FreePort(t)
	good := fmt.Sprintf("127.30.3.1:%d", goodPort)
	first := addFrontend("good", "127.30.3.1", goodPort, backendPort)
	eventually(t, "the first frontend", func() string { return tcptest.Reach(good) }, "backend-good")
	if r := c.waitReload(first); r.Status != models.ReloadStatusSucceeded {
		t.Fatalf("first reload: want succeeded, got %+v", r)
	}

	// Something else holds the second VIP:port; haproxy -c cannot know.
	taken := tcptest.Serve(t, "127.30.3.2:0", "squatter")
	second := addFrontend("clash", "127.30.3.2", int32(taken.Port()), backendPort)
	r := c.waitReload(second)
	t.Logf("failed reload: %+v", r)
	if r.Status != models.ReloadStatusFailed || !strings.Contains(r.Response, "cannot bind socket") || !strings.Contains(r.Response, taken.String()) {
		t.Fatalf("second reload: want failed with HAProxy's bind alert, got %+v", r)
	}
	if got := tcptest.Reach(good); got != "backend-good" {
		t.Errorf("the first frontend must keep serving after a failed reload, got %q", got)
	}
	if got := tcptest.Reach(taken.String()); got != "squatter" {
		t.Errorf("the taken address must stay with its owner, got %q", got)
	}

	code, _, body := c.do("GET", c.svc()+"/reloads", nil)
	var all models.Reloads
	if code != 200 || json.Unmarshal(body, &all) != nil || len(all) != 2 || all[0].ID != first || all[1].ID != second || all[1].Status != models.ReloadStatusFailed {
		t.Errorf("reloads: want [%s succeeded, %s failed], got %d %s", first, second, code, body)
	}
	if code, _, _ := c.do("GET", c.svc()+"/reloads/1999-01-01-9", nil); code != 404 {
		t.Errorf("unknown reload: want 404, got %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "HAProxy failed to reload") || !strings.Contains(logs.String(), second) {
		t.Errorf("want the failed reload %s logged, got:\n%s", second, logs.String())
	}
}
