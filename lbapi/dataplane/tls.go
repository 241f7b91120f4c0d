package dataplane

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"time"
)

// NewHTTPClient returns an HTTP client for Client.HTTP that verifies the
// server against caPEM (the system roots when it is empty). insecure skips
// verification altogether; only for when the caller asked for it.
func NewHTTPClient(caPEM []byte, insecure bool) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case insecure:
		cfg.InsecureSkipVerify = true //nolint:gosec // explicitly requested
	case len(caPEM) > 0:
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("the CA bundle for the data plane API holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	// A commit runs haproxy -c; a minute is far beyond any healthy answer.
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}
