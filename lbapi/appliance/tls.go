package appliance

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/open-supervisor/supervisor/internal/certs"
)

// WriteSelfSignedTLS writes a fresh CA (ca.crt) and a server certificate
// for 127.0.0.1, ::1 and localhost signed by it (server.crt, server.key)
// into dir, like the appliance's generated CA. It returns the CA in PEM,
// which clients verify the API with, and the paths for Options.CertFile
// and Options.KeyFile.
func WriteSelfSignedTLS(dir string) (caPEM []byte, certFile, keyFile string, err error) {
	ca, err := certs.NewCA("open-supervisor appliance CA")
	if err != nil {
		return nil, "", "", err
	}
	pair, err := ca.Issue([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"})
	if err != nil {
		return nil, "", "", err
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		return nil, "", "", fmt.Errorf("failed to write %s: %w", caFile, err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := pair.WriteFiles(certFile, keyFile); err != nil {
		return nil, "", "", err
	}
	return ca.PEM, certFile, keyFile, nil
}
