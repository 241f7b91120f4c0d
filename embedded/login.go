package embedded

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/server/wcp"
)

// loginAudience is the audience of the embedded supervisor's login tokens.
const loginAudience = "vmware-tes:vc:vns:k8s"

// loginOptions configure the login service on a loopback port of its own,
// presenting the API server's certificate (valid for the endpoint VIP once
// Workload Management is enabled). Its URL is the tokens' issuer, which
// kube-apiserver reaches there, before any VIP exists (trustLogin). Credentials are checked against
// the simulated vCenter, and its users' groups are fixed (users.go).
func (s *Stack) loginOptions() (manager.LoginOptions, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return manager.LoginOptions{}, fmt.Errorf("failed to listen for the login service: %w", err)
	}
	s.loginAddr = ln.Addr().String()
	tokens := wcp.TokenOptions{IssuerURL: "https://" + s.loginAddr, Audience: loginAudience}
	s.loginTokens = tokens
	groups, err := s.groups()
	if err != nil {
		_ = ln.Close()
		return manager.LoginOptions{}, err
	}
	limits := s.loginLimits
	if limits == nil {
		// Behind HAProxy every login comes from one address: limit per
		// user only.
		limits = &wcp.RateLimits{PerUser: wcp.DefaultRateLimits.PerUser}
	}
	return manager.LoginOptions{
		Listener: ln,
		TLS: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.env.ServingCertificate(), nil
		}},
		Tokens:        tokens,
		Authenticator: wcp.NewVCenterAuthenticator(wcp.VCenterEndpoint{URL: s.sim.URL, CAFile: s.sim.CAFile, UserAgent: "open-supervisor-login"}, groups),
		RateLimits:    limits,
	}, nil
}

// trustLogin makes kube-apiserver trust the login service's tokens and
// waits until it accepts one: its JWT authenticator reads the discovery
// document and the keys once, when the configuration changes, so this runs
// once the service serves.
func (s *Stack) trustLogin(ctx context.Context) error {
	if err := s.env.TrustJWT(wcp.JWTAuthenticator(s.loginTokens, string(s.env.ServingCA()))); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.env.ServingCA())
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	// One login (each counts against the user's rate limit), then as many
	// questions to the API server as it takes.
	var token string
	if err := waitFor(ctx, "a login at /wcp/login", func() error {
		var err error
		token, err = s.adminToken(ctx, hc)
		return err
	}); err != nil {
		return err
	}
	return waitFor(ctx, "the API server to accept the login's token", func() error { return s.tokenAccepted(ctx, token) })
}

// adminToken logs in as the simulator's administrator.
func (s *Stack) adminToken(ctx context.Context, hc *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+s.loginAddr+"/wcp/login", nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(s.sim.Username, s.sim.Password)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	var login wcp.LoginResponse
	err = json.NewDecoder(resp.Body).Decode(&login)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: %s (%v)", resp.Status, err)
	}
	return login.SessionID, nil
}

// tokenAccepted asks the API server who the token's bearer is.
func (s *Stack) tokenAccepted(ctx context.Context, token string) error {
	cfg := rest.AnonymousClientConfig(s.env.Config)
	cfg.BearerToken = token
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	return err
}
