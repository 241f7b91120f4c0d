package appliance_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/test/tcptest"
)

// TestV2WireFormat programs HAProxy through the v2 paths: children flat
// with their parent in the query, reads wrapped with the version, /v3 absent.
func TestV2WireFormat(t *testing.T) {
	_, c := start(t, appliance.Options{APIVersion: "v2"})
	cfg := "/v2/services/haproxy/configuration"

	if code, _, body := c.do("GET", "/v3/info", nil); code != 404 {
		t.Fatalf("a v2 server must answer 404 on /v3/info, got %d %s", code, body)
	}
	code, _, body := c.do("GET", "/v2/info", nil)
	var info models.Info
	if code != 200 || json.Unmarshal(body, &info) != nil || info.API == nil || !strings.HasPrefix(info.API.Version, "v2") {
		t.Fatalf("/v2/info: %d %s", code, body)
	}

	backendPort := tcptest.Serve(t, "127.0.0.1:0", "backend-v2").Port()
	vipPort := tcptest.FreePort(t)
	v := c.version()
	q := "transaction_id=" + c.begin()
	tid := strings.TrimPrefix(q, "transaction_id=")
	c.mustWrite("POST", cfg+"/backends?"+q, map[string]any{"name": "lb-v2-80", "mode": "tcp", "balance": map[string]any{"algorithm": "roundrobin"}}, 202)
	c.mustWrite("POST", cfg+"/servers?backend=lb-v2-80&"+q, map[string]any{"name": "vm-a", "address": "127.0.0.1", "port": backendPort, "check": "enabled"}, 202)
	c.mustWrite("POST", cfg+"/frontends?"+q, map[string]any{"name": "lb-v2-80", "mode": "tcp", "default_backend": "lb-v2-80"}, 202)
	c.mustWrite("POST", cfg+"/binds?frontend=lb-v2-80&"+q, map[string]any{"name": "vip", "address": "127.30.2.7", "port": vipPort}, 202)
	// v3's nested path does not exist in v2, and a child needs its parent.
	if code, _, body := c.do("GET", cfg+"/backends/lb-v2-80/servers?"+q, nil); code != 404 {
		t.Errorf("v3-style servers path on v2: want 404, got %d %s", code, body)
	}
	if code, _, body := c.do("GET", cfg+"/servers?"+q, nil); code != 422 || !strings.Contains(string(body), "backend in query is required") {
		t.Errorf("servers without ?backend: want 422, got %d %s", code, body)
	}
	code, _, body = c.do("GET", "/v2/services/haproxy/transactions", nil)
	var txs models.Transactions
	if code != 200 || json.Unmarshal(body, &txs) != nil || len(txs) != 1 || txs[0].ID != tid || txs[0].Status != models.TransactionStatusInProgress {
		t.Errorf("transactions: want [%s in_progress], got %d %s", tid, code, body)
	}
	c.commit(tid)
	eventually(t, "the v2 VIP", func() string { return tcptest.Reach(fmt.Sprintf("127.30.2.7:%d", vipPort)) }, "backend-v2")

	// Reads are {"_version": N, "data": ...}.
	var servers struct {
		Version int64          `json:"_version"`
		Data    models.Servers `json:"data"`
	}
	code, _, body = c.do("GET", cfg+"/servers?backend=lb-v2-80", nil)
	if code != 200 || json.Unmarshal(body, &servers) != nil || servers.Version != v+1 || len(servers.Data) != 1 || servers.Data[0].Name != "vm-a" {
		t.Errorf("servers: want version %d and vm-a, got %d %s", v+1, code, body)
	}
	var binds struct {
		Version int64        `json:"_version"`
		Data    models.Binds `json:"data"`
	}
	code, _, body = c.do("GET", cfg+"/binds?frontend=lb-v2-80", nil)
	if code != 200 || json.Unmarshal(body, &binds) != nil || binds.Version != v+1 || len(binds.Data) != 1 || *binds.Data[0].Port != int64(vipPort) {
		t.Errorf("binds: got %d %s", code, body)
	}
	var backend struct {
		Version int64           `json:"_version"`
		Data    *models.Backend `json:"data"`
	}
	code, _, body = c.do("GET", cfg+"/backends/lb-v2-80", nil)
	if code != 200 || json.Unmarshal(body, &backend) != nil || backend.Data == nil || backend.Data.Name != "lb-v2-80" {
		t.Errorf("one backend: got %d %s", code, body)
	}
	code, _, body = c.do("GET", cfg+"/frontends", nil)
	if code != 200 || !strings.HasPrefix(string(body), `{"_version":`) {
		t.Errorf("frontends: want the v2 wrapper, got %d %s", code, body)
	}

	// Deleting a child goes through the flat path too.
	c.mustWrite("DELETE", fmt.Sprintf("%s/servers/vm-a?backend=lb-v2-80&version=%d", cfg, v+1), nil, 202)
	code, _, body = c.do("GET", cfg+"/servers?backend=lb-v2-80", nil)
	if code != 200 || json.Unmarshal(body, &servers) != nil || len(servers.Data) != 0 {
		t.Errorf("servers after delete: got %d %s", code, body)
	}
}
