package kube

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/open-supervisor/supervisor/internal/certs"
)

// servingCert is kube-apiserver's serving certificate, issued by a CA of
// the embedded stack's own so that it can be re-issued for more names: the
// supervisor endpoint's VIP and DNS names once Workload Management is
// enabled. kube-apiserver reloads the files when they change.
type servingCert struct {
	mu       sync.Mutex
	ca       *certs.CA
	dir      string
	tempDir  bool
	ips      []net.IP
	dnsNames []string
	current  []byte
	// pair is current as a TLS certificate, for servers that present the
	// API server's certificate (the login service).
	pair tls.Certificate
}

// newServingCert writes a serving certificate for localhost and 127.0.0.1
// into a directory under stateDir (a temporary one when stateDir is "")
// and points env's kube-apiserver at it.
func newServingCert(env *envtest.Environment, stateDir string) (*servingCert, error) {
	ca, err := certs.NewCA("open-supervisor API server CA")
	if err != nil {
		return nil, err
	}
	s := &servingCert{ca: ca, ips: []net.IP{net.IPv4(127, 0, 0, 1)}, dnsNames: []string{"localhost"}}
	if stateDir == "" {
		if s.dir, err = os.MkdirTemp("", "kube-apiserver-certs-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	} else {
		s.dir = filepath.Join(stateDir, "kube-apiserver-certs")
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return nil, err
		}
	}
	if err := s.write(); err != nil {
		return nil, err
	}
	// envtest then skips all its certificates, the service-account signer's
	// included.
	if err := writeServiceAccountSigner(s.dir); err != nil {
		return nil, err
	}
	if env.ControlPlane.APIServer == nil {
		env.ControlPlane.APIServer = &envtest.APIServer{}
	}
	// envtest keeps a serving certificate it finds in CertDir, and gives
	// clients SecureServing.CA to verify it.
	env.ControlPlane.APIServer.CertDir = s.dir
	env.ControlPlane.APIServer.SecureServing.CA = ca.PEM
	return s, nil
}

func writeServiceAccountSigner(dir string) error {
	signer, err := certs.NewCA("service-account signer")
	if err != nil {
		return err
	}
	key, err := signer.KeyPEM()
	if err != nil {
		return err
	}
	// envtest's names for them (kube-apiserver's flags point there).
	for name, data := range map[string][]byte{"sa-signer.crt": signer.PEM, "sa-signer.key": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("failed to write the service-account signer: %w", err)
		}
	}
	return nil
}

func (s *servingCert) write() error {
	pair, err := s.ca.Issue(s.ips, s.dnsNames)
	if err != nil {
		return err
	}
	if err := pair.WriteFiles(filepath.Join(s.dir, "apiserver.crt"), filepath.Join(s.dir, "apiserver.key")); err != nil {
		return err
	}
	tlsPair, err := tls.X509KeyPair(pair.Cert, pair.Key)
	if err != nil {
		return err
	}
	s.current, s.pair = pair.Cert, tlsPair
	return nil
}

// ServeEndpoint re-issues kube-apiserver's serving certificate so that it
// is also valid for ips and dnsNames (the supervisor endpoint), keeping
// every name it was valid for, and returns it in PEM. kube-apiserver picks
// it up within its reload interval; clients keep the same CA.
func (e *Environment) ServeEndpoint(ips []net.IP, dnsNames []string) ([]byte, error) {
	s := e.serving
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, ip := range ips {
		if !slices.ContainsFunc(s.ips, ip.Equal) {
			s.ips = append(s.ips, ip)
			changed = true
		}
	}
	for _, n := range dnsNames {
		if !slices.Contains(s.dnsNames, n) {
			s.dnsNames = append(s.dnsNames, n)
			changed = true
		}
	}
	if changed {
		if err := s.write(); err != nil {
			return nil, fmt.Errorf("failed to re-issue kube-apiserver's serving certificate: %w", err)
		}
	}
	return s.current, nil
}

// ServingCertificate is the certificate kube-apiserver serves now, with
// its key: the login service presents the same one on the endpoint's port
// 443 (ServeEndpoint re-issues both).
func (e *Environment) ServingCertificate() *tls.Certificate {
	s := e.serving
	s.mu.Lock()
	defer s.mu.Unlock()
	pair := s.pair
	return &pair
}

// ServingCA is the CA kube-apiserver's serving certificate chains to.
func (e *Environment) ServingCA() []byte { return e.serving.ca.PEM }

func (s *servingCert) cleanup() {
	if s != nil && s.tempDir {
		_ = os.RemoveAll(s.dir)
	}
}
