package session_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"fmt"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/open-supervisor/supervisor/providers/vsphere/session"
)

func startVCSim(t *testing.T) (*simulator.Server, string) {
	t.Helper()
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	s := m.Service.NewServer()
	t.Cleanup(func() { s.Close(); m.Remove() })
	ca, err := s.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	return s, ca
}

func params(s *simulator.Server) session.Params {
	u := *s.URL
	u.User = nil
	pw, _ := s.URL.User.Password()
	return session.Params{Server: u.String(), Username: s.URL.User.Username(), Password: pw}
}

func TestTLSIsVerified(t *testing.T) {
	s, ca := startVCSim(t)
	ctx := context.Background()

	if _, err := session.NewCache().Get(ctx, params(s)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an unknown certificate must be refused unless --vc-insecure is set, got %v", err)
	}

	p := params(s)
	p.CAFile = ca
	if _, err := session.NewCache().Get(ctx, p); err != nil {
		t.Fatalf("the simulator's CA must be accepted: %v", err)
	}

	p = params(s)
	p.Thumbprint = thumbprint(s)
	if _, err := session.NewCache().Get(ctx, p); err != nil {
		t.Fatalf("a pinned thumbprint must be accepted: %v", err)
	}

	p = params(s)
	p.Insecure = true
	if _, err := session.NewCache().Get(ctx, p); err != nil {
		t.Fatalf("insecure must connect: %v", err)
	}
}

func TestOneSessionPerUserAndNoPasswordInLogs(t *testing.T) {
	s, ca := startVCSim(t)
	var logs bytes.Buffer
	ctx := ctrl.LoggerInto(context.Background(), funcr.New(func(prefix, args string) {
		fmt.Fprintln(&logs, prefix, args)
	}, funcr.Options{Verbosity: 10}))

	cache := session.NewCache()
	p := params(s)
	p.CAFile = ca
	a, err := cache.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cache.Get(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || cache.Stats.Sessions.Load() != 1 {
		t.Fatalf("want one cached session, got %d logins", cache.Stats.Sessions.Load())
	}
	if logs.Len() == 0 {
		t.Fatal("expected a login log line")
	}
	if strings.Contains(logs.String(), p.Password) {
		t.Fatalf("the password reached the logs:\n%s", logs.String())
	}
}

func thumbprint(s *simulator.Server) string {
	sum := sha1.Sum(s.TLS.Certificates[0].Certificate[0])
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// Reconcilers call vCenter many at a time: the session keeps those
// connections open for the next burst instead of a TLS handshake per call.
func TestConcurrentCallsReuseTheirConnections(t *testing.T) {
	s, ca := startVCSim(t)
	p := params(s)
	p.CAFile = ca
	sess, err := session.NewCache().Get(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	const calls = 16
	burst := func() (dialed int) {
		var (
			mu      sync.Mutex
			busy    int
			allBusy = make(chan struct{})
		)
		// Each call holds its connection until all of them hold one, so
		// the burst needs calls connections at once.
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			mu.Lock()
			if !info.Reused {
				dialed++
			}
			if busy++; busy == calls {
				close(allBusy)
			}
			mu.Unlock()
			select {
			case <-allBusy:
			case <-time.After(10 * time.Second):
			}
		}})
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				if _, err := methods.GetCurrentTime(ctx, sess.Client); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return dialed
	}
	if n := burst(); n < calls-1 {
		t.Fatalf("the first burst should have needed about %d connections, dialed %d", calls, n)
	}
	if n := burst(); n != 0 {
		t.Errorf("the second burst dialed %d new connections to vCenter; want the first burst's reused", n)
	}
}
