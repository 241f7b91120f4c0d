package vapi

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
)

// Front serves the REST API's paths itself and passes every other path
// (SOAP at /sdk, every other REST API) to vCenter unchanged, so that one
// URL is both vCenter and the Workload Management API, as on a real
// vCenter, and clients such as govc need no second setting.
type Front struct {
	api   *Server
	proxy *httputil.ReverseProxy
}

// NewFront fronts vCenter (its base URL, https://host:port) with api.
// vCenter's certificate is verified against caFile unless insecure.
func NewFront(api *Server, vcenter *url.URL, caFile string, insecure bool) (*Front, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // only by explicit choice
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("failed to read vCenter's CA %s: %w", caFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		tlsConfig.RootCAs = pool
	}
	target := &url.URL{Scheme: vcenter.Scheme, Host: vcenter.Host}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		Transport: &http.Transport{TLSClientConfig: tlsConfig, Proxy: nil, ForceAttemptHTTP2: false, MaxIdleConnsPerHost: 16},
	}
	return &Front{api: api, proxy: proxy}, nil
}

// ServeHTTP serves r itself or passes it to vCenter.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.api.Owns(r) {
		f.api.ServeHTTP(w, r)
		return
	}
	f.proxy.ServeHTTP(w, r)
}
