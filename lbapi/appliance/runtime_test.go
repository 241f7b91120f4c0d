package appliance_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

// addProxy commits a frontend binding vip:port to a backend of one server
// and returns the reload ID.
func (c *client) addProxy(name, vip string, port int32, serverPort uint16) string {
	c.t.Helper()
	cfg := c.svc() + "/configuration"
	tid := c.begin()
	q := "?transaction_id=" + tid
	binds, servers := cfg+"/frontends/"+name+"/binds"+q, cfg+"/backends/"+name+"/servers"+q
	if c.ver == "v2" {
		binds, servers = cfg+"/binds"+q+"&frontend="+name, cfg+"/servers"+q+"&backend="+name
	}
	c.mustWrite("POST", cfg+"/backends"+q, map[string]any{"name": name, "mode": "tcp"}, 202)
	c.mustWrite("POST", servers, map[string]any{"name": "vm", "address": "127.0.0.1", "port": serverPort}, 202)
	c.mustWrite("POST", cfg+"/frontends"+q, map[string]any{"name": name, "mode": "tcp", "default_backend": name}, 202)
	c.mustWrite("POST", binds, map[string]any{"name": "vip", "address": vip, "port": port}, 202)
	return c.commit(tid)
}

// stats reads stats/native in the client's major and returns the running
// proxies as "type/name" (servers as "server/backend/name@addr").
func (c *client) stats() map[string]bool {
	c.t.Helper()
	code, _, body := c.do("GET", c.svc()+"/stats/native", nil)
	if code != 200 {
		c.t.Fatalf("stats/native: %d %s", code, body)
	}
	var st models.NativeStats
	if c.ver == "v2" {
		// v2 sends one collection per process.
		var all []*models.NativeStats
		if err := json.Unmarshal(body, &all); err != nil || len(all) != 1 {
			c.t.Fatalf("v2 stats/native must be a list of one collection: %v %s", err, body)
		}
		st = *all[0]
	} else if err := json.Unmarshal(body, &st); err != nil {
		c.t.Fatalf("v3 stats/native must be one collection: %v %s", err, body)
	}
	if st.RuntimeAPI == "" {
		c.t.Errorf("stats/native names no runtime API: %s", body)
	}
	out := map[string]bool{}
	for _, s := range st.Stats {
		switch {
		case s.Type == "server" && s.Stats != nil:
			out[fmt.Sprintf("server/%s/%s@%s", s.BackendName, s.Name, s.Stats.Addr)] = true
		case s.Type != "":
			out[s.Type+"/"+s.Name] = true
		}
	}
	return out
}

// In the real server's mode a reload HAProxy cannot apply is reported
// succeeded; the runtime endpoints, which read the running worker, show
// that the new frontend never went live while the previous one serves.
// Both majors, with their own shapes.
func TestSignalReloadReportsSuccessAndStatsShowTheRunningProcess(t *testing.T) {
	for _, ver := range []string{"v3", "v2"} {
		t.Run(ver, func(t *testing.T) {
			a, c := start(t, appliance.Options{APIVersion: ver, ReloadReport: appliance.ReportSignalSent})
			serverPort := tcptest.Serve(t, "127.0.0.1:0", "backend").Port()
			goodPort := tcptest.FreePort(t)
			good := fmt.Sprintf("127.30.4.1:%d", goodPort)
			if r := c.waitReload(c.addProxy("good", "127.30.4.1", goodPort, serverPort)); r.Status != models.ReloadStatusSucceeded {
				t.Fatalf("first reload: want succeeded, got %+v", r)
			}
			wait.For(t, 30*time.Second, "the good frontend to serve", func() (bool, error) {
				if got := tcptest.Reach(good); got != "backend" {
					return false, fmt.Errorf("reached %q", got)
				}
				return true, nil
			})
			st := c.stats()
			for _, want := range []string{"frontend/good", "backend/good", "server/good/vm@127.0.0.1:" + fmt.Sprint(serverPort)} {
				if !st[want] {
					t.Errorf("stats/native lacks %s: %v", want, st)
				}
			}

			taken := tcptest.Serve(t, "127.30.4.2:0", "squatter")
			id := c.addProxy("clash", "127.30.4.2", int32(taken.Port()), serverPort)
			if r := c.waitReload(id); r.Status != models.ReloadStatusSucceeded {
				t.Fatalf("a reload HAProxy could not apply: want it reported succeeded as the real server does, got %+v", r)
			}
			// Once the master has dealt with it, the running worker is still
			// the previous one.
			wait.For(t, 30*time.Second, "the master to finish the second reload", func() (bool, error) {
				return a.Reloads() == 2, fmt.Errorf("%d reloads done", a.Reloads())
			})
			st = c.stats()
			if st["frontend/clash"] || st["backend/clash"] || !st["frontend/good"] {
				t.Errorf("stats/native must show the running process (good, no clash): %v", st)
			}
			if got := tcptest.Reach(good); got != "backend" {
				t.Errorf("the previous configuration must keep serving, got %q", got)
			}

			// Filters, as the real server applies them.
			code, _, body := c.do("GET", c.svc()+"/stats/native?name=good", nil)
			if code != 400 {
				t.Errorf("a name without a type: want 400, got %d %s", code, body)
			}
			code, _, body = c.do("GET", c.svc()+"/stats/native?type=frontend", nil)
			if code != 200 || !json.Valid(body) || strings.Contains(string(body), `"type":"backend"`) || !strings.Contains(string(body), `"name":"good"`) {
				t.Errorf("type=frontend: want only frontends, got %d %s", code, body)
			}

			// runtime/info is the running worker's.
			code, _, body = c.do("GET", c.svc()+"/runtime/info", nil)
			var info models.ProcessInfo
			if ver == "v2" {
				var all []*models.ProcessInfo
				if err := json.Unmarshal(body, &all); err != nil || len(all) != 1 {
					t.Fatalf("v2 runtime/info must be a list of one: %d %s", code, body)
				}
				info = *all[0]
			} else if err := json.Unmarshal(body, &info); err != nil {
				t.Fatalf("v3 runtime/info: %d %s", code, body)
			}
			if code != 200 || info.Info == nil || info.Info.Pid == nil || *info.Info.Pid == 0 {
				t.Errorf("runtime/info: want the worker's pid, got %d %s", code, body)
			}

			// Runtime servers of a running backend, and of one never loaded.
			servers := c.svc() + "/runtime/backends/good/servers"
			missing := c.svc() + "/runtime/backends/clash/servers"
			if ver == "v2" {
				servers, missing = c.svc()+"/runtime/servers?backend=good", c.svc()+"/runtime/servers?backend=clash"
			}
			code, _, body = c.do("GET", servers, nil)
			var rs models.RuntimeServers
			if err := json.Unmarshal(body, &rs); code != 200 || err != nil || len(rs) != 1 || rs[0].Name != "vm" {
				t.Errorf("runtime servers of good: %d %s", code, body)
			}
			if code, _, body = c.do("GET", missing, nil); code != 404 {
				t.Errorf("runtime servers of a backend the worker does not run: want 404, got %d %s", code, body)
			}
		})
	}
}
