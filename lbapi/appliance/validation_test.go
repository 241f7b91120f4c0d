package appliance_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/haproxytech/client-native/v6/models"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
)

// TestCommitRefusedByHAProxy: a configuration haproxy -c refuses answers 400
// "validation error" with HAProxy's alert, fails the transaction and leaves
// the version alone.
func TestCommitRefusedByHAProxy(t *testing.T) {
	_, c := start(t, appliance.Options{})
	cfg := c.svc() + "/configuration"
	v := c.version()
	tid := c.begin()
	q := "?transaction_id=" + tid
	c.mustWrite("POST", cfg+"/backends"+q, map[string]any{"name": "no-port", "mode": "tcp"}, 202)
	// Port 0 is refused by the schema (422); no port at all passes it, but
	// HAProxy cannot check a server without one.
	c.mustWrite("POST", cfg+"/backends/no-port/servers"+q, map[string]any{"name": "vm-a", "address": "127.0.0.1", "check": "enabled"}, 202)

	code, _, body := c.do("PUT", c.svc()+"/transactions/"+tid, nil)
	var apiErr struct {
		Code    int
		Message string
	}
	_ = json.Unmarshal(body, &apiErr)
	if code != 400 || apiErr.Code != 400 || !strings.HasPrefix(apiErr.Message, "validation error") ||
		!strings.Contains(apiErr.Message, "server 'vm-a' has neither service port nor check port") {
		t.Fatalf("want 400 validation error with HAProxy's alert, got %d %s", code, body)
	}
	t.Logf("refused commit: %s", apiErr.Message)
	if got := c.version(); got != v {
		t.Errorf("a refused commit must leave the version at %d, got %d", v, got)
	}
	code, _, body = c.do("GET", c.svc()+"/transactions/"+tid, nil)
	var tx models.Transaction
	if code != 200 || json.Unmarshal(body, &tx) != nil || tx.Status != models.TransactionStatusFailed {
		t.Errorf("want the transaction failed, got %d %s", code, body)
	}
	code, _, body = c.do("GET", cfg+"/backends/no-port", nil)
	if code != 404 {
		t.Errorf("the refused backend must not exist, got %d %s", code, body)
	}
}

// TestHealthCheckFieldsRoundTrip: the kube-apiserver health check lbapi
// asks for (client-native models) reaches haproxy.cfg and HAProxy takes it.
func TestHealthCheckFieldsRoundTrip(t *testing.T) {
	a, c := start(t, appliance.Options{})
	cfg := c.svc() + "/configuration"
	backend := &models.Backend{BackendBase: models.BackendBase{
		Name: "cp-demo-6443", Mode: "tcp", Balance: &models.Balance{Algorithm: ptr.To("roundrobin")},
		AdvCheck: "httpchk", HttpchkParams: &models.HttpchkParams{Method: "GET", URI: "/readyz"},
	}}
	server := &models.Server{Name: "cp-0", Address: "127.0.0.1", Port: ptr.To[int64](6443)}
	server.Check, server.CheckSsl, server.Verify = "enabled", "enabled", "none"

	tid := c.begin()
	q := "?transaction_id=" + tid
	c.mustWrite("POST", cfg+"/backends"+q, backend, 202)
	c.mustWrite("POST", cfg+"/backends/cp-demo-6443/servers"+q, server, 202)
	c.commit(tid)

	data, err := os.ReadFile(a.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"option httpchk GET /readyz", "server cp-0 127.0.0.1:6443 check check-ssl verify none"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, data)
		}
	}
	if out, err := exec.Command("haproxy", "-c", "-f", a.ConfigPath()).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c refused the configuration: %v\n%s", err, out)
	}

	// And they read back as they were written.
	code, _, body := c.do("GET", cfg+"/backends/cp-demo-6443", nil)
	var gotB models.Backend
	if code != 200 || json.Unmarshal(body, &gotB) != nil || gotB.AdvCheck != "httpchk" || gotB.HttpchkParams == nil ||
		gotB.HttpchkParams.Method != "GET" || gotB.HttpchkParams.URI != "/readyz" {
		t.Errorf("backend read back: %d %s", code, body)
	}
	code, _, body = c.do("GET", cfg+"/backends/cp-demo-6443/servers/cp-0", nil)
	var gotS models.Server
	if code != 200 || json.Unmarshal(body, &gotS) != nil || gotS.Check != "enabled" || gotS.CheckSsl != "enabled" || gotS.Verify != "none" {
		t.Errorf("server read back: %d %s", code, body)
	}
	if !strings.Contains(string(body), `"check-ssl":"enabled"`) {
		t.Errorf(`want the wire name "check-ssl" (client-native v6), got %s`, body)
	}
}
