package guestsim

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"sigs.k8s.io/cluster-api/util/certs"
)

// TestProxy checks the endpoint without a cluster: health answered
// locally, Host rewritten to the upstream, upgrades passed through both
// ways, and Close cutting upgraded connections too.
func TestProxy(t *testing.T) {
	ca := newTestCA(t)
	upstream := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			_, _ = io.WriteString(w, r.Host)
			return
		}
		// Like a port-forward: switch protocols, then echo.
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\n\r\n")
		_ = rw.Flush()
		_, _ = io.Copy(conn, rw)
	}))
	upstreamCert, err := servingCert(ca)
	must(t, err)
	upstream.TLS = &tls.Config{Certificates: []tls.Certificate{*upstreamCert}}
	upstream.EnableHTTP2 = true
	upstream.StartTLS()
	defer upstream.Close()
	upstreamAddr := upstream.Listener.Addr().String()

	const ip, vip = "127.21.1.1", "127.30.0.99"
	cert, err := servingCert(ca, ip, vip)
	must(t, err)
	p, err := startProxy(logr.Discard(), net.JoinHostPort(ip, "6443"), upstreamAddr, ca.cert, []string{ip, vip}, cert)
	must(t, err)
	defer p.Close()

	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	// Verified by the VIP's name, as a kubeconfig naming the VIP would be.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: vip},
		ForceAttemptHTTP2: true,
	}}
	for path, want := range map[string]string{"/readyz": "ok", "/livez": "ok", "/api": upstreamAddr} {
		if got := get(t, client, "https://"+net.JoinHostPort(ip, "6443")+path); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}

	conn, err := tls.Dial("tcp", net.JoinHostPort(ip, "6443"), &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
	must(t, err)
	defer func() { _ = conn.Close() }()
	_, err = io.WriteString(conn, "POST /api/v1/namespaces/kube-system/pods/etcd-x/portforward HTTP/1.1\r\n"+
		"Host: "+ip+":6443\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n")
	must(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	must(t, err)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %s", resp.Status)
	}
	_, err = io.WriteString(conn, "ping")
	must(t, err)
	buf := make([]byte, 4)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("the upgraded connection echoed %q, %v", buf, err)
	}

	p.Close()
	if _, err := br.ReadByte(); err == nil {
		t.Error("the upgraded connection survived Close")
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "6443"), time.Second); err == nil {
		_ = c.Close()
		t.Error("the endpoint still accepts connections after Close")
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	must(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

// newTestCA is a self-signed RSA CA like KubeadmControlPlane's.
func newTestCA(t *testing.T) keyPair {
	t.Helper()
	key, err := certs.NewPrivateKey()
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	tmpl.Subject.CommonName = "kubernetes"
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return keyPair{cert: cert, key: key}
}
