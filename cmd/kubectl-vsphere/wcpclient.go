package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBytes bounds what is read of an answer: the largest, the
// workloads list, is a few kilobytes per namespace.
const maxResponseBytes = 4 << 20

// credentials are the vCenter user's; they only ever go into the
// Authorization header.
type credentials struct {
	Username string
	Password string
}

// workload is one entry of GET /wcp/workloads: a vSphere Namespace the user
// may use, on the Supervisor at MasterHost.
type workload struct {
	Namespace  string `json:"namespace"`
	MasterHost string `json:"master_host"`
	// The misspelled name is the Supervisor's wire name, kept for
	// compatibility with VMware's plugin.
	APIServerPort jsonString `json:"conrol_plane_api_server_port"`
	DNSNames      []string   `json:"control_plane_dns_names,omitempty"`
}

// guestLoginRequest is the body of a login to a Tanzu Kubernetes cluster;
// an empty one ({}) is a Supervisor login.
type guestLoginRequest struct {
	Name      string `json:"guest_cluster_name,omitempty"`
	Namespace string `json:"guest_cluster_namespace,omitempty"`
}

// loginResponse is the 200 answer of POST /wcp/login.
type loginResponse struct {
	SessionID string `json:"session_id"`
	// GuestServer is the guest cluster's API address (no scheme, no port);
	// empty in a guest login's answer when the cluster is unknown or not
	// permitted.
	GuestServer string `json:"guest_cluster_server,omitempty"`
	// GuestCA is the base64 of the guest cluster's PEM CA.
	GuestCA string `json:"guest_cluster_ca,omitempty"`
}

// guestSession is a successful login to a Tanzu Kubernetes cluster.
type guestSession struct {
	Token  string
	Server string
	CAData []byte // PEM
}

// errGuestClusterNotFound: the Supervisor does not know the cluster, or
// will not let the user log in to it.
var errGuestClusterNotFound = errors.New("the Tanzu Kubernetes cluster was not found, or you may not log in to it")

// statusError is an answer other than 200 from the login service.
type statusError struct {
	Method, URL string
	StatusCode  int
	Status      string
	// Message is what the body says, for people.
	Message string
	// RetryAfter is the Retry-After header, when set.
	RetryAfter string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s %s: the server answered %s", e.Method, e.URL, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RetryAfter != "" {
		msg += " (retry after " + e.RetryAfter + " seconds)"
	}
	return msg
}

// wcpClient talks to the login service of one Supervisor.
type wcpClient struct {
	baseURL *url.URL
	http    *http.Client
	log     verboseLog
}

func newWCPClient(baseURL *url.URL, tlsConfig *tls.Config, timeout time.Duration, log verboseLog) *wcpClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	return &wcpClient{
		baseURL: baseURL,
		http: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			// A redirect would be a misconfigured or foreign server; surface
			// it rather than send credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log: log,
	}
}

// close drops the kept-alive connections; a nil client has none.
func (c *wcpClient) close() {
	if c != nil {
		c.http.CloseIdleConnections()
	}
}

// LoginBanner fetches the administrator's login banner. It is also the
// first contact with the server, so it returns the TLS state that shows
// which authority vouched for the server.
func (c *wcpClient) LoginBanner(ctx context.Context) (string, *tls.ConnectionState, error) {
	resp, body, err := c.send(ctx, http.MethodGet, "loginbanner", nil, nil)
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode != http.StatusOK {
		// Older Supervisors have no banner; that is no reason to stop.
		c.log.V(2, "No login banner: %s", newStatusError(resp, body))
		return "", resp.TLS, nil
	}
	return bannerText(body), resp.TLS, nil
}

// Login logs in to the Supervisor and returns its token.
func (c *wcpClient) Login(ctx context.Context, creds credentials) (string, error) {
	answer, err := c.login(ctx, creds, guestLoginRequest{})
	if err != nil {
		return "", err
	}
	return answer.SessionID, nil
}

// GuestLogin logs in to the Tanzu Kubernetes cluster name in namespace
// (which may be empty: the Supervisor then finds the cluster by name).
func (c *wcpClient) GuestLogin(ctx context.Context, creds credentials, name, namespace string) (guestSession, error) {
	answer, err := c.login(ctx, creds, guestLoginRequest{Name: name, Namespace: namespace})
	if err != nil {
		return guestSession{}, err
	}
	if answer.GuestServer == "" {
		return guestSession{}, errGuestClusterNotFound
	}
	ca, err := decodeGuestCA(answer.GuestCA)
	if err != nil {
		return guestSession{}, err
	}
	return guestSession{Token: answer.SessionID, Server: answer.GuestServer, CAData: ca}, nil
}

func (c *wcpClient) login(ctx context.Context, creds credentials, body guestLoginRequest) (loginResponse, error) {
	resp, raw, err := c.send(ctx, http.MethodPost, "login", &creds, body)
	if err != nil {
		return loginResponse{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return loginResponse{}, newStatusError(resp, raw)
	}
	var answer loginResponse
	if err := json.Unmarshal(raw, &answer); err != nil {
		// The decoder's message never quotes the body, which holds a token.
		return loginResponse{}, fmt.Errorf("the login answer is not the expected JSON: %w", err)
	}
	if answer.SessionID == "" {
		return loginResponse{}, errors.New("the login answer holds no session_id")
	}
	return answer, nil
}

// Workloads lists the vSphere Namespaces the user may use.
func (c *wcpClient) Workloads(ctx context.Context, creds credentials) ([]workload, error) {
	resp, raw, err := c.send(ctx, http.MethodGet, "workloads", &creds, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newStatusError(resp, raw)
	}
	var list []workload
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("the workloads answer is not the expected JSON list: %w", err)
	}
	c.log.V(4, "vSphere Namespaces the user may use: %d", len(list))
	return list, nil
}

// send makes one request to /wcp/<endpoint> and reads the answer. Only the
// method, URL, status and time are ever logged: headers and bodies carry
// the password and tokens.
func (c *wcpClient) send(ctx context.Context, method, endpoint string, creds *credentials, body any) (*http.Response, []byte, error) {
	target := c.baseURL.JoinPath("wcp", endpoint).String()
	req, err := newJSONRequest(ctx, method, target, body)
	if err != nil {
		return nil, nil, err
	}
	if creds != nil {
		req.SetBasicAuth(creds.Username, creds.Password)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read the answer of %s %s: %w", method, target, err)
	}
	c.log.V(6, "%s %s %s in %s", method, target, resp.Status, time.Since(start).Round(time.Millisecond))
	return resp, raw, nil
}

func newJSONRequest(ctx context.Context, method, target string, body any) (*http.Request, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("failed to encode the request to %s: %w", target, err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return nil, fmt.Errorf("failed to make the request to %s: %w", target, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "kubectl-vsphere/"+buildVersion())
	return req, nil
}

func newStatusError(resp *http.Response, body []byte) *statusError {
	return &statusError{
		Method:     resp.Request.Method,
		URL:        resp.Request.URL.String(),
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Message:    errorMessage(body),
		RetryAfter: resp.Header.Get("Retry-After"),
	}
}

// errorMessage is the message of a JSON error body ({"error", "message"}),
// or the body's first line when it is not JSON.
func errorMessage(body []byte) string {
	var answer struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &answer) == nil {
		if answer.Message != "" {
			return printable(answer.Message, 200)
		}
		return printable(answer.Error, 200)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	return printable(line, 200)
}

// bannerText is the banner body: plain text, or a JSON string.
func bannerText(body []byte) string {
	var s string
	if json.Unmarshal(body, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(body))
}

// printable keeps at most n characters of s without control characters, so
// a hostile server cannot drive the user's terminal.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		if r >= ' ' && r != 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jsonString accepts a JSON string or number: the Supervisor sends the API
// server port as a string, but a number costs nothing to accept.
type jsonString string

func (s *jsonString) UnmarshalJSON(data []byte) error {
	var str string
	if err := json.Unmarshal(data, &str); err == nil {
		*s = jsonString(str)
		return nil
	}
	var num json.Number
	if err := json.Unmarshal(data, &num); err != nil {
		return fmt.Errorf("want a string or a number, got %s", data)
	}
	*s = jsonString(num.String())
	return nil
}
