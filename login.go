package main

import (
	"crypto/tls"
	"fmt"
	"net/url"

	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/server/wcp"
)

// loginOptions configure the login service beside a real vCenter: it
// serves at --login-bind-address (which the endpoint's port 443 forwards
// to, --login-endpoint), with the endpoint's certificate, and its tokens
// name --login-issuer-url, where kube-apiserver fetches the keys (its
// authentication configuration: wcp.JWTAuthenticator). Users' groups come
// from vCenter's SSO, asked as the supervisor's own vCenter account.
func (o options) loginOptions(vr *vcenterReader, vcUser *url.Userinfo) (manager.LoginOptions, error) {
	if o.loginAddr == "" {
		return manager.LoginOptions{}, nil
	}
	if o.loginCertFile == "" || o.loginKeyFile == "" {
		return manager.LoginOptions{}, fmt.Errorf("--login-bind-address needs --login-tls-cert-file and --login-tls-key-file")
	}
	if o.loginIssuerURL == "" {
		return manager.LoginOptions{}, fmt.Errorf("--login-bind-address needs --login-issuer-url (https, where kube-apiserver reaches the login service)")
	}
	pair, err := tls.LoadX509KeyPair(o.loginCertFile, o.loginKeyFile)
	if err != nil {
		return manager.LoginOptions{}, fmt.Errorf("failed to load the login service's certificate: %w", err)
	}
	vcURL, err := url.Parse(o.vcServer)
	if err != nil || vcURL.Host == "" {
		vcURL = &url.URL{Scheme: "https", Host: o.vcServer}
	}
	vcURL.Path = "/sdk"
	return manager.LoginOptions{
		Address: o.loginAddr,
		TLS:     &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}},
		Tokens:  wcp.TokenOptions{IssuerURL: o.loginIssuerURL, Audience: o.loginAudience},
		Authenticator: wcp.NewVCenterAuthenticator(
			wcp.VCenterEndpoint{URL: vcURL, CAFile: o.vcCAFile, Thumbprint: o.vcThumbprint, Insecure: o.vcInsecure, UserAgent: "open-supervisor-login"},
			wcp.NewSSOGroups(vr.client, vcUser),
		),
	}, nil
}
