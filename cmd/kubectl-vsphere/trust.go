package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// serverTrust is how the Supervisor's certificate is checked: against the
// system's roots plus the CAs the user chose to trust, or not at all.
type serverTrust struct {
	// Insecure skips verification (--insecure-skip-tls-verify).
	Insecure bool
	// SystemRoots returns the roots trusted without asking.
	SystemRoots func() (*x509.CertPool, error)
	// TrustedPEM holds CAs the user trusted for this server: found in the
	// kubeconfig from an earlier login, or accepted at the prompt.
	TrustedPEM []byte
}

// tlsConfig is the client configuration for this trust.
func (t serverTrust) tlsConfig() (*tls.Config, error) {
	if t.Insecure {
		// The user asked for it with --insecure-skip-tls-verify.
		return &tls.Config{InsecureSkipVerify: true}, nil
	}
	systemRoots := t.SystemRoots
	if systemRoots == nil {
		systemRoots = x509.SystemCertPool
	}
	pool, err := systemRoots()
	if err != nil || pool == nil {
		// No system store (some minimal images): only the user's CAs count.
		pool = x509.NewCertPool()
	}
	if len(t.TrustedPEM) > 0 && !pool.AppendCertsFromPEM(t.TrustedPEM) {
		return nil, errors.New("the trusted certificate authority data holds no PEM certificate")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// caDataToStore is what the kubeconfig's certificate-authority-data must
// hold after a connection: the user's CAs when one of them vouched for the
// server, nothing when the system's roots did (kubectl then uses those).
func (t serverTrust) caDataToStore(state *tls.ConnectionState) []byte {
	if t.Insecure || state == nil || len(t.TrustedPEM) == 0 {
		return nil
	}
	trusted := parseCertificates(t.TrustedPEM)
	for _, chain := range state.VerifiedChains {
		root := chain[len(chain)-1]
		for _, ca := range trusted {
			if root.Equal(ca) {
				return t.TrustedPEM
			}
		}
	}
	return nil
}

// unknownAuthorityCertificate returns, when err is a TLS verification
// failure for want of a known authority, the topmost certificate the
// server presented: the one to offer for trust.
func unknownAuthorityCertificate(err error) *x509.Certificate {
	var verifyErr *tls.CertificateVerificationError
	if !errors.As(err, &verifyErr) || len(verifyErr.UnverifiedCertificates) == 0 {
		return nil
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(verifyErr.Err, &unknown) {
		return nil
	}
	chain := verifyErr.UnverifiedCertificates
	return chain[len(chain)-1]
}

// askToTrust shows cert as ssh shows an unknown host key and asks whether
// to trust it.
func askToTrust(p *prompter, host string, cert *x509.Certificate) (bool, error) {
	describeCertificate(p.out, host, cert)
	return p.confirm("Do you want to trust it? (yes/no) ")
}

func describeCertificate(w io.Writer, host string, cert *x509.Certificate) {
	what := "certificate"
	if cert.IsCA {
		what = "certificate authority"
	}
	_, _ = fmt.Fprintf(w, "The authenticity of the Supervisor %q can't be established:\n", host)
	_, _ = fmt.Fprintf(w, "its certificate is signed by an authority this computer does not trust.\n")
	_, _ = fmt.Fprintf(w, "The server presents this %s:\n", what)
	_, _ = fmt.Fprintf(w, "  Subject:             %s\n", printable(cert.Subject.String(), 200))
	_, _ = fmt.Fprintf(w, "  Issuer:              %s\n", printable(cert.Issuer.String(), 200))
	_, _ = fmt.Fprintf(w, "  Valid:               %s to %s\n",
		cert.NotBefore.UTC().Format(time.DateOnly), cert.NotAfter.UTC().Format(time.DateOnly))
	_, _ = fmt.Fprintf(w, "  SHA-256 fingerprint: %s\n", fingerprint(cert))
}

// fingerprint is the SHA-256 of the DER certificate as colon-separated
// hex, the form browsers and vCenter show.
func fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func encodePEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// parseCertificates returns the certificates of a PEM bundle, skipping
// anything else.
func parseCertificates(data []byte) []*x509.Certificate {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			certs = append(certs, cert)
		}
	}
}

// decodeGuestCA reads guest_cluster_ca: the base64 of a PEM CA.
func decodeGuestCA(encoded string) ([]byte, error) {
	if encoded == "" {
		return nil, nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, fmt.Errorf("the guest cluster's CA is not base64: %w", err)
	}
	if len(parseCertificates(data)) == 0 {
		return nil, errors.New("the guest cluster's CA holds no PEM certificate")
	}
	return data, nil
}
