package guestsim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// apiProxy is a control-plane VM's kube-apiserver as the network sees it:
// TLS on <VM IP>:6443. The in-memory API servers cannot be that themselves:
// the mux binds one port per cluster on all interfaces, routes API requests
// by the port in the Host header and serves a certificate naming only
// loopback and its own host. So the proxy terminates TLS with a certificate
// of the cluster's CA naming the VM's IP and the control-plane VIP,
// rewrites Host to the mux's listener, and re-encrypts. Upgrades (SPDY and
// WebSocket port-forwards, which KubeadmControlPlane uses to reach etcd)
// pass through. It answers /readyz, /livez and /healthz itself, so that a
// load balancer's health check sees it up as soon as it listens.
type apiProxy struct {
	addr string
	// hosts are the names the current certificate is for (sorted).
	hosts []string
	cert  atomic.Pointer[tls.Certificate]

	ln       *trackingListener
	srv      *http.Server
	upstream upstreamTransport
}

// startProxy listens on addr and forwards to the mux listener at upstream,
// whose certificate is signed by ca.
func startProxy(log logr.Logger, addr, upstream string, ca *x509.Certificate, hosts []string, cert *tls.Certificate) (*apiProxy, error) {
	transport := newUpstreamTransport(ca)
	target := &url.URL{Scheme: "https", Host: upstream}
	rp := &httputil.ReverseProxy{
		// SetURL also sets the outbound Host to upstream: the mux picks the
		// guest cluster by that port, and its port-forwards dial it.
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     transport,
		FlushInterval: -1, // watches stream
		ErrorLog:      stdLogger(log),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	p := &apiProxy{addr: addr, hosts: hosts, ln: newTrackingListener(ln), upstream: transport}
	p.cert.Store(cert)
	p.srv = &http.Server{
		Handler:           p.handler(rp),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          stdLogger(log),
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.cert.Load(), nil },
		},
	}
	go func() {
		// ServeTLS adds h2 to the TLS config; upgrades still use HTTP/1.1.
		if err := p.srv.ServeTLS(p.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "Guest API server endpoint stopped", "address", addr)
		}
	}()
	return p, nil
}

func (p *apiProxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz", "/livez", "/healthz":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, _ = io.WriteString(w, "ok")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// upstreamTransport talks to the mux: HTTP/2 where it can, HTTP/1.1 for
// upgrades, which HTTP/2 cannot carry (Go's transport would send them on
// a pooled HTTP/2 connection and fail).
type upstreamTransport struct{ h2, h1 *http.Transport }

func newUpstreamTransport(ca *x509.Certificate) upstreamTransport {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	newTransport := func(h2 bool) *http.Transport {
		t := &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: muxHost, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:   h2,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		}
		if !h2 {
			t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		return t
	}
	return upstreamTransport{h2: newTransport(true), h1: newTransport(false)}
}

func (t upstreamTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Upgrade") != "" {
		return t.h1.RoundTrip(r)
	}
	return t.h2.RoundTrip(r)
}

func (t upstreamTransport) closeIdle() {
	t.h1.CloseIdleConnections()
	t.h2.CloseIdleConnections()
}

// sameHosts reports whether the certificate is for hosts (sorted).
func (p *apiProxy) sameHosts(hosts []string) bool { return slices.Equal(p.hosts, hosts) }

// setCert replaces the certificate for new connections.
func (p *apiProxy) setCert(hosts []string, cert *tls.Certificate) {
	p.hosts = hosts
	p.cert.Store(cert)
}

// Close stops listening and cuts every connection, upgraded ones included
// (http.Server.Close forgets those): a powered-off VM answers nothing.
func (p *apiProxy) Close() {
	_ = p.srv.Close()
	p.ln.closeAll()
	p.upstream.closeIdle()
}

// trackingListener remembers its connections so that Close can cut them.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newTrackingListener(l net.Listener) *trackingListener {
	return &trackingListener{Listener: l, conns: map[net.Conn]struct{}{}}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil { // closed meanwhile
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.conns[c] = struct{}{}
	return &trackedConn{Conn: c, l: l}, nil
}

func (l *trackingListener) closeAll() {
	_ = l.Listener.Close()
	l.mu.Lock()
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	for c := range conns {
		_ = c.Close()
	}
}

type trackedConn struct {
	net.Conn
	l *trackingListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c.Conn)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// stdLogger sends net/http's error log (failed upstream requests, TLS
// handshakes cut by health checks, clients going away) to log at V(2).
func stdLogger(l logr.Logger) *log.Logger {
	return log.New(logWriter{l.V(2)}, "", 0)
}

type logWriter struct{ l logr.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	w.l.Info(strings.TrimSpace(string(b)))
	return len(b), nil
}
