package kube

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/open-supervisor/supervisor/test/wait"
)

// Once the endpoint is served, kube-apiserver answers TLS that verifies
// against the same CA for the endpoint's VIP and DNS name, with the
// certificate ServeEndpoint returned; its first names keep working.
func TestServeEndpointReissuesTheServingCertificate(t *testing.T) {
	env, err := StartWith(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	u, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(env.ServingCA())
	handshake := func(serverName string) (*x509.Certificate, error) {
		conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0], nil
	}
	if _, err := handshake("127.30.0.99"); err == nil {
		t.Fatal("the API server's certificate is valid for the VIP before the endpoint is served")
	}
	certPEM, err := env.ServeEndpoint([]net.IP{net.ParseIP("127.30.0.99")}, []string{"supervisor.lab.local"})
	if err != nil {
		t.Fatal(err)
	}
	wait.For(t, 2*time.Minute, "kube-apiserver serving the endpoint's certificate", func() (bool, error) {
		for _, name := range []string{"127.30.0.99", "supervisor.lab.local", "127.0.0.1", "localhost"} {
			cert, err := handshake(name)
			if err != nil {
				return false, fmt.Errorf("%s: %w", name, err)
			}
			if string(certPEM) == "" || !cert.Equal(parsePEM(t, certPEM)) {
				return false, fmt.Errorf("%s: not the certificate ServeEndpoint returned", name)
			}
		}
		return true, nil
	})
	again, err := env.ServeEndpoint([]net.IP{net.ParseIP("127.30.0.99")}, nil)
	if err != nil || string(again) != string(certPEM) {
		t.Errorf("serving the same endpoint again re-issued the certificate (%v)", err)
	}
}

func parsePEM(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
