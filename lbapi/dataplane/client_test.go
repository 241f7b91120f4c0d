package dataplane_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/haproxytech/client-native/v6/models"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/lbapi/dataplane"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

func startAppliance(t *testing.T, opts appliance.Options) *appliance.Appliance {
	t.Helper()
	opts.Dir, opts.Username, opts.Password, opts.ReloadDelay = t.TempDir(), "lbapi", "pw-not-in-errors", 200*time.Millisecond
	a, err := appliance.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	return a
}

// TestClientAgainstAppliance drives both majors through the same calls.
func TestClientAgainstAppliance(t *testing.T) {
	for i, ver := range []string{"v3", "v2"} {
		// Not parallel: client-native's parser writes a package global
		// (config-parser.DefaultSectionName), a race between appliances.
		t.Run(ver, func(t *testing.T) {
			ctx := context.Background()
			a := startAppliance(t, appliance.Options{APIVersion: ver})
			c := &dataplane.Client{BaseURL: a.URL, Username: "lbapi", Password: "pw-not-in-errors"}
			if got, err := c.Detect(ctx); err != nil || got != ver {
				t.Fatalf("Detect: want %s, got %q %v", ver, got, err)
			}

			backend := tcptest.Serve(t, "127.0.0.1:0", "backend-"+ver)
			vip := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 30, 4, byte(i + 1)}), uint16(tcptest.FreePort(t)))
			v, err := c.Version(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tid, err := c.StartTransaction(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			name := "lb-demo-" + ver
			b := &models.Backend{BackendBase: models.BackendBase{Name: name, Mode: "tcp", Balance: &models.Balance{Algorithm: ptr.To("roundrobin")}}}
			s := &models.Server{Name: "vm-a", Address: backend.Addr().String(), Port: ptr.To(int64(backend.Port()))}
			s.Check = "enabled"
			f := &models.Frontend{FrontendBase: models.FrontendBase{Name: name, Mode: "tcp", DefaultBackend: name}}
			bind := &models.Bind{Address: vip.Addr().String(), Port: ptr.To(int64(vip.Port()))}
			bind.Name = "vip"
			for _, step := range []error{
				c.CreateBackend(ctx, b, tid),
				c.CreateServer(ctx, name, s, tid),
				c.CreateFrontend(ctx, f, tid),
				c.CreateBind(ctx, name, bind, tid),
			} {
				if step != nil {
					t.Fatal(step)
				}
			}
			reloadID, err := c.CommitReload(ctx, tid)
			if err != nil || reloadID == "" {
				t.Fatalf("commit: want a reload ID, got %q %v", reloadID, err)
			}

			// Everything reads back, and the VIP serves.
			if fs, err := c.Frontends(ctx, ""); err != nil || len(fs) != 1 || fs[0].Name != name || fs[0].DefaultBackend != name {
				t.Errorf("frontends: %v %v", fs, err)
			}
			if bs, err := c.Backends(ctx, ""); err != nil || len(bs) != 1 || bs[0].Name != name {
				t.Errorf("backends: %v %v", bs, err)
			}
			if ss, err := c.Servers(ctx, name, ""); err != nil || len(ss) != 1 || ss[0].Name != "vm-a" || ss[0].Check != "enabled" || *ss[0].Port != int64(backend.Port()) {
				t.Errorf("servers: %v %v", ss, err)
			}
			if bs, err := c.Binds(ctx, name, ""); err != nil || len(bs) != 1 || bs[0].Name != "vip" || bs[0].Address != vip.Addr().String() {
				t.Errorf("binds: %v %v", bs, err)
			}
			waitReload(t, c, reloadID, models.ReloadStatusSucceeded)
			wait.For(t, 30*time.Second, "the VIP to reach backend-"+ver, func() (bool, error) {
				got := tcptest.Reach(vip.String())
				return got == "backend-"+ver, fmt.Errorf("VIP %s reached %q", vip, got)
			})

			// The running process shows the proxy, its server at its address.
			st, err := c.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			running := map[string]string{}
			for _, e := range st.Stats {
				if e.Stats != nil {
					running[e.Type+"/"+e.BackendName+"/"+e.Name] = e.Stats.Addr
				}
			}
			if _, ok := running["frontend//"+name]; !ok {
				t.Errorf("stats: no frontend %s in %v", name, running)
			}
			if _, ok := running["backend//"+name]; !ok {
				t.Errorf("stats: no backend %s in %v", name, running)
			}
			if addr := running["server/"+name+"/vm-a"]; addr != backend.String() {
				t.Errorf("stats: want server vm-a at %s, got %q in %v", backend, addr, running)
			}

			// A stale version: 409.
			if _, err := c.StartTransaction(ctx, v); !errors.Is(err, dataplane.ErrConflict) {
				t.Errorf("stale version: want ErrConflict, got %v", err)
			}
			// Two transactions from one version: the second commit is outdated (406).
			t1, _ := c.StartTransaction(ctx, v+1)
			t2, _ := c.StartTransaction(ctx, v+1)
			if err := c.DeleteServer(ctx, name, "vm-a", t1); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteBind(ctx, name, "vip", t2); err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(ctx, t1); err != nil {
				t.Fatal(err)
			}
			if err := c.Commit(ctx, t2); !errors.Is(err, dataplane.ErrOutdated) {
				t.Errorf("outdated transaction: want ErrOutdated, got %v", err)
			}
			if ss, err := c.Servers(ctx, name, ""); err != nil || len(ss) != 0 {
				t.Errorf("servers after the delete: %v %v", ss, err)
			}
			if _, err := c.Servers(ctx, "nope", ""); !errors.Is(err, dataplane.ErrNotFound) {
				t.Errorf("servers of an unknown backend: want ErrNotFound, got %v", err)
			}
		})
	}
}

// TestCommitRefusedIsErrInvalid: haproxy -c refusing the configuration is
// ErrInvalid carrying HAProxy's reason, and the version does not move.
func TestCommitRefusedIsErrInvalid(t *testing.T) {
	ctx := context.Background()
	a := startAppliance(t, appliance.Options{})
	c := &dataplane.Client{BaseURL: a.URL, Username: "lbapi", Password: "pw-not-in-errors"}
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tid, err := c.StartTransaction(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBackend(ctx, &models.Backend{BackendBase: models.BackendBase{Name: "bad", Mode: "tcp"}}, tid); err != nil {
		t.Fatal(err)
	}
	s := &models.Server{Name: "no-port", Address: "127.0.0.1"}
	s.Check = "enabled"
	if err := c.CreateServer(ctx, "bad", s, tid); err != nil {
		t.Fatal(err)
	}
	err = c.Commit(ctx, tid)
	if !errors.Is(err, dataplane.ErrInvalid) || !strings.Contains(err.Error(), "has neither service port nor check port") {
		t.Fatalf("want ErrInvalid with HAProxy's alert, got %v", err)
	}
	if got, _ := c.Version(ctx); got != v {
		t.Errorf("a refused commit must leave the version at %d, got %d", v, got)
	}

	// The schema's refusals are ErrInvalid too; a missing object is not.
	tid, _ = c.StartTransaction(ctx, v)
	if err := c.CreateBackend(ctx, &models.Backend{BackendBase: models.BackendBase{Name: "has space", Mode: "tcp"}}, tid); !errors.Is(err, dataplane.ErrInvalid) {
		t.Errorf("bad name: want ErrInvalid, got %v", err)
	}
	if err := c.DeleteBackend(ctx, "nope", tid); !errors.Is(err, dataplane.ErrNotFound) || errors.Is(err, dataplane.ErrInvalid) {
		t.Errorf("unknown backend: want only ErrNotFound, got %v", err)
	}
}

// TestUnauthorizedNamesTheUser: a refused login names the user and the
// server, never the password.
func TestUnauthorizedNamesTheUser(t *testing.T) {
	ctx := context.Background()
	a := startAppliance(t, appliance.Options{})
	for _, ver := range []string{"", "v3"} { // detecting, and already detected
		c := &dataplane.Client{BaseURL: a.URL, Username: "lbapi", Password: "wrong-secret", APIVersion: ver}
		_, err := c.Version(ctx)
		if !errors.Is(err, dataplane.ErrUnauthorized) || !strings.Contains(err.Error(), `user "lbapi"`) || !strings.Contains(err.Error(), a.URL) {
			t.Errorf("APIVersion %q: want ErrUnauthorized naming user lbapi at %s, got %v", ver, a.URL, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("the error must not carry the password: %v", err)
		}
	}
}

// TestNewHTTPClientVerifiesTheCA: TLS to the appliance is verified against
// the given CA, and skipped only when asked.
func TestNewHTTPClientVerifiesTheCA(t *testing.T) {
	ctx := context.Background()
	ca, cert, key, err := appliance.WriteSelfSignedTLS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := startAppliance(t, appliance.Options{CertFile: cert, KeyFile: key})
	if !strings.HasPrefix(a.URL, "https://") {
		t.Fatalf("want an https URL, got %s", a.URL)
	}
	detect := func(caPEM []byte, insecure bool, host string) error {
		hc, err := dataplane.NewHTTPClient(caPEM, insecure)
		if err != nil {
			t.Fatal(err)
		}
		c := &dataplane.Client{BaseURL: strings.Replace(a.URL, "127.0.0.1", host, 1), HTTP: hc, Username: "lbapi", Password: "pw-not-in-errors"}
		_, err = c.Detect(ctx)
		return err
	}
	if err := detect(ca, false, "127.0.0.1"); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	if err := detect(ca, false, "localhost"); err != nil {
		t.Errorf("with the CA, by name: %v", err)
	}
	var verr *tls.CertificateVerificationError
	if err := detect(nil, false, "127.0.0.1"); !errors.As(err, &verr) {
		t.Errorf("without the CA: want a certificate verification error, got %v", err)
	}
	if err := detect(nil, true, "127.0.0.1"); err != nil {
		t.Errorf("insecure: %v", err)
	}
	if _, err := dataplane.NewHTTPClient([]byte("not a certificate"), false); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a CA bundle without a certificate: want a clear error, got %v", err)
	}
}

func waitReload(t *testing.T, c *dataplane.Client, id, want string) {
	t.Helper()
	var r *models.Reload
	wait.For(t, 30*time.Second, "reload "+id+" to finish", func() (bool, error) {
		var err error
		if r, err = c.Reload(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return r.Status != models.ReloadStatusInProgress, fmt.Errorf("reload %s is %s", id, r.Status)
	})
	if r.Status != want {
		t.Fatalf("reload %s: want %s, got %+v", id, want, r)
	}
}
