package supervisor

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Health says whether the supervisor's API server is ready.
type Health interface {
	Readyz(ctx context.Context) error
}

// RESTHealth asks the API server's /readyz through a REST client (the
// manager's discovery client's).
type RESTHealth struct {
	Client rest.Interface
}

// healthTimeout bounds one /readyz request.
const healthTimeout = 5 * time.Second

// Readyz returns nil when /readyz answers ok, else what it said.
func (h RESTHealth) Readyz(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	body, err := h.Client.Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		if detail := strings.TrimSpace(string(body)); detail != "" {
			return fmt.Errorf("/readyz: %w: %s", err, detail)
		}
		return fmt.Errorf("/readyz: %w", err)
	}
	return nil
}

// ServedCertificate reads the certificate the API server at addr
// (host:port) serves, verified with cfg's TLS settings: what the endpoint
// VIP serves too, since HAProxy passes TLS through.
func ServedCertificate(cfg *rest.Config) func(ctx context.Context, addr string) ([]byte, error) {
	return func(ctx context.Context, addr string) ([]byte, error) {
		tc, err := rest.TLSConfigFor(cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to read the API server's TLS settings: %w", err)
		}
		if tc == nil {
			return nil, errors.New("the API server is not served over TLS")
		}
		ctx, cancel := context.WithTimeout(ctx, healthTimeout)
		defer cancel()
		conn, err := (&tls.Dialer{Config: tc}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("failed to read the certificate served at %s: %w", addr, err)
		}
		defer func() { _ = conn.Close() }()
		certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
		if len(certs) == 0 {
			return nil, fmt.Errorf("%s served no certificate", addr)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw}), nil
	}
}
