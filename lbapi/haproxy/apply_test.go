package haproxy_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

func startAppliance(t *testing.T) (*appliance.Appliance, *dataplane.Client) {
	t.Helper()
	a, err := appliance.Start(context.Background(), appliance.Options{
		Dir: t.TempDir(), Username: "lbapi", Password: "pw", ReloadDelay: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return a, &dataplane.Client{BaseURL: a.URL, Username: "lbapi", Password: "pw"}
}

// backend listens on a free loopback port and answers with its tag.
func backend(t *testing.T, tag string) (netip.Addr, int32) {
	ap := tcptest.Serve(t, "127.0.0.1:0", tag)
	return ap.Addr(), int32(ap.Port())
}

// answers collects which backends a VIP reaches over n connections.
func answers(vip netip.Addr, port int32, n int) map[string]bool {
	seen := map[string]bool{}
	for range n {
		if tag := tcptest.Reach(netip.AddrPortFrom(vip, uint16(port)).String()); tag != "" {
			seen[tag] = true
		}
	}
	return seen
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	wait.For(t, 30*time.Second, what, func() (bool, error) { return f(), nil })
}

func TestApplyServesVIPsAndLeavesOthersAlone(t *testing.T) {
	a, c := startAppliance(t)
	ctx := context.Background()

	// An object lbapi does not own.
	v, _ := c.Version(ctx)
	tid, _ := c.StartTransaction(ctx, v)
	foreign := &models.Backend{}
	foreign.Name, foreign.Mode = "admin_stats", "tcp"
	if err := c.CreateBackend(ctx, foreign, tid); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx, tid); err != nil {
		t.Fatal(err)
	}

	addrA, portA := backend(t, "vm-a")
	addrB, portB := backend(t, "vm-b")
	vip := netip.MustParseAddr("127.30.0.20")
	vport := tcptest.FreePort(t)
	name := haproxy.ProxyName("VirtualMachineService", "ns1", "web", 80)
	ap := &haproxy.Applier{Client: c}

	desired := map[string]haproxy.Proxy{name: {Name: name, VIP: vip, Port: vport, Servers: []haproxy.Server{
		{Name: "vm-a", Address: addrA, Port: portA, Check: true}, {Name: "vm-b", Address: addrB, Port: portB, Check: true},
	}}}
	if _, err := ap.Apply(ctx, desired); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both VMs behind the VIP", func() bool { s := answers(vip, vport, 6); return s["vm-a"] && s["vm-b"] })

	// Applying the same state again changes nothing.
	before := ap.Transactions
	if res, err := ap.Apply(ctx, desired); err != nil || !res.Changes.Empty() || ap.Transactions != before {
		t.Fatalf("a repeated apply must be a no-op: %+v %v", res, err)
	}

	// vm-b leaves, vm-c joins: the frontend stays, servers change.
	addrC, portC := backend(t, "vm-c")
	desired[name] = haproxy.Proxy{Name: name, VIP: vip, Port: vport, Servers: []haproxy.Server{
		{Name: "vm-a", Address: addrA, Port: portA, Check: true}, {Name: "vm-c", Address: addrC, Port: portC, Check: true},
	}}
	res, err := ap.Apply(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	ch := res.Changes
	if len(ch.Create) != 0 || len(ch.Delete) != 0 {
		t.Fatalf("a backend change must not recreate the proxy: %+v", ch)
	}
	waitFor(t, "vm-c in, vm-b out", func() bool { s := answers(vip, vport, 6); return s["vm-a"] && s["vm-c"] && !s["vm-b"] })

	// Someone else writes meanwhile: the next apply re-reads and still converges.
	v, _ = c.Version(ctx)
	tid, _ = c.StartTransaction(ctx, v)
	other := &models.Backend{}
	other.Name, other.Mode = "someone_else", "tcp"
	_ = c.CreateBackend(ctx, other, tid)
	_ = c.Commit(ctx, tid)

	// Everything removed: owned proxies go, foreign ones stay.
	if _, err := ap.Apply(ctx, map[string]haproxy.Proxy{}); err != nil {
		t.Fatal(err)
	}
	backends, _ := c.Backends(ctx, "")
	var names []string
	for _, b := range backends {
		names = append(names, b.Name) // no commit marker either: lbapi holds nothing
	}
	got := strings.Join(names, ",")
	if strings.Contains(got, haproxy.Prefix) || !strings.Contains(got, "admin_stats") || !strings.Contains(got, "someone_else") {
		t.Fatalf("want only the foreign backends left, got %s", got)
	}
	waitFor(t, "the VIP to stop answering", func() bool { return len(answers(vip, vport, 1)) == 0 })
	_ = a
}

func TestManyProxiesInOneTransaction(t *testing.T) {
	a, c := startAppliance(t)
	ctx := context.Background()
	addr, port := backend(t, "vm")
	desired := map[string]haproxy.Proxy{}
	base := tcptest.FreePort(t)
	for i := range 200 {
		name := haproxy.ProxyName("VirtualMachineService", "ns1", fmt.Sprintf("svc-%03d", i), 80)
		desired[name] = haproxy.Proxy{Name: name, VIP: netip.AddrFrom4([4]byte{127, 31, byte(i / 250), byte(1 + i%250)}), Port: base,
			Servers: []haproxy.Server{{Name: "vm", Address: addr, Port: port}}}
	}
	ap := &haproxy.Applier{Client: c}
	if _, err := ap.Apply(ctx, desired); err != nil {
		t.Fatal(err)
	}
	if ap.Transactions != 1 {
		t.Fatalf("want one transaction for 200 proxies, got %d", ap.Transactions)
	}
	waitFor(t, "the last VIP to answer", func() bool { return answers(netip.MustParseAddr("127.31.0.200"), base, 1)["vm"] })
	if r := a.Reloads(); r > 2 {
		t.Errorf("want at most a couple of reloads for one transaction, got %d", r)
	}
}

func TestProxyNames(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9-_.:]+$`)
	long := strings.Repeat("a", 63)
	n1 := haproxy.ProxyName("VirtualMachineService", long, long+"x", 6443)
	n2 := haproxy.ProxyName("VirtualMachineService", long, long+"y", 6443)
	short := haproxy.ProxyName("Service", "default", "web", 80)
	for _, n := range []string{n1, n2, short} {
		if !valid.MatchString(n) || len(n) > 63 || !strings.HasPrefix(n, haproxy.Prefix) {
			t.Errorf("bad name %q", n)
		}
	}
	if n1 == n2 {
		t.Errorf("long names collide: %s", n1)
	}
	if short != "lb_service_default_web_80" {
		t.Errorf("short names stay readable, got %s", short)
	}
	if haproxy.ProxyName("Service", "default", "web", 80) != short {
		t.Error("names must be deterministic")
	}
}

// A proxy HAProxy refuses (haproxy -c at commit) is reported with HAProxy's
// reason and left out; the rest of the batch is served.
func TestApplyLeavesOutRejectedProxies(t *testing.T) {
	_, c := startAppliance(t)
	ctx := context.Background()
	addr, port := backend(t, "vm")
	vport := tcptest.FreePort(t)
	desired := map[string]haproxy.Proxy{}
	for i := range 8 {
		name := haproxy.ProxyName("VirtualMachineService", "ns1", fmt.Sprintf("svc-%d", i), 80)
		p := haproxy.Proxy{Name: name, VIP: netip.AddrFrom4([4]byte{127, 32, 0, byte(10 + i)}), Port: vport,
			Servers: []haproxy.Server{{Name: "vm", Address: addr, Port: port, Check: true}}}
		if i == 5 {
			p.Servers[0].Port = 0 // a checked server without a port: haproxy -c refuses it
		}
		desired[name] = p
	}
	ap := &haproxy.Applier{Client: c}
	res, err := ap.Apply(ctx, desired)
	if err != nil {
		t.Fatal(err)
	}
	bad := haproxy.ProxyName("VirtualMachineService", "ns1", "svc-5", 80)
	if len(res.Rejected) != 1 || res.Rejected[bad] == nil {
		t.Fatalf("want exactly %s rejected, got %v", bad, res.Rejected)
	}
	if !strings.Contains(res.Rejected[bad].Error(), "neither service port nor check port") {
		t.Errorf("the rejection must carry HAProxy's reason, got %v", res.Rejected[bad])
	}
	for i := range 8 {
		vip := netip.AddrFrom4([4]byte{127, 32, 0, byte(10 + i)})
		if i == 5 {
			continue
		}
		waitFor(t, vip.String()+" to answer", func() bool { return answers(vip, vport, 1)["vm"] })
	}
	// Applying the same batch again re-isolates without touching what serves.
	if res, err = ap.Apply(ctx, desired); err != nil || len(res.Rejected) != 1 {
		t.Fatalf("second apply: %v %v", res.Rejected, err)
	}
}

// A checked server runs with downinter and fastinter 250 ms, so one that is
// down or changing state (a control plane whose API server is starting) is
// checked every 250 ms rather than at HAProxy's 2 s. The test reads the
// server line HAProxy runs; the speed it buys is the seed benchmark's.
func TestCheckedServersRunWithQuickDownChecks(t *testing.T) {
	a, c := startAppliance(t)
	ctx := context.Background()
	down := netip.MustParseAddr("127.30.0.22") // nothing listens there yet
	vip := netip.MustParseAddr("127.30.0.21")
	vport := tcptest.FreePort(t)
	name := haproxy.ProxyName("VirtualMachineService", "ns1", "cp", 6443)
	ap := &haproxy.Applier{Client: c}
	desired := map[string]haproxy.Proxy{name: {Name: name, VIP: vip, Port: vport, Servers: []haproxy.Server{
		{Name: "cp-0", Address: down, Port: vport, Check: true},
	}}}
	if _, err := ap.Apply(ctx, desired); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(a.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.Lines(string(cfg)) {
		if strings.Contains(l, "server cp-0 ") {
			line = strings.TrimSpace(l)
		}
	}
	for _, want := range []string{" check", "downinter 250", "fastinter 250"} {
		if !strings.Contains(line, want) {
			t.Errorf("the server line HAProxy runs, %q, lacks %q", line, want)
		}
	}
	// HAProxy loaded that line: the backend, once listening, is served.
	tcptest.Serve(t, netip.AddrPortFrom(down, uint16(vport)).String(), "cp-0")
	waitFor(t, "the server that came up to be served", func() bool { return answers(vip, vport, 1)["cp-0"] })
}
