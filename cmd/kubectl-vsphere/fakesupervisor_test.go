package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSupervisor serves the login service's wire format as
// shared/reference/wcp-login.md describes it. It is written without the
// plugin's own types, so that a misspelt field on either side shows.
type fakeSupervisor struct {
	*httptest.Server
	username, password string
	banner             string
	// workloads is the JSON answer of GET /wcp/workloads.
	workloads string
	guests    []fakeGuest
	// hang makes every request wait until the client gives up.
	hang atomic.Bool

	mu         sync.Mutex
	loginCount int
	tokens     []string
	loginBody  []string // the bodies of POST /wcp/login, as sent
}

type fakeGuest struct {
	namespace, name, server string
	caPEM                   string
}

const (
	testUser     = "administrator@vsphere.local"
	testPassword = "VMware1!-not-a-real-one"
	testBanner   = "Authorized use only.\nActivity is monitored."
)

// testGuestCA is the guest cluster's CA, as PEM.
var testGuestCA = newTestCA()

// newTestCA returns a self-signed CA certificate as PEM.
func newTestCA() string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tkc01 guest cluster CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func newFakeSupervisor(t *testing.T) *fakeSupervisor {
	f := &fakeSupervisor{
		username: testUser, password: testPassword, banner: testBanner,
		workloads: `[
			{"namespace": "dev", "master_host": "127.0.0.1", "conrol_plane_api_server_port": "6443",
			 "control_plane_dns_names": ["supervisor.lab.local"]},
			{"namespace": "prod", "master_host": "10.10.70.12", "conrol_plane_api_server_port": "6443",
			 "control_plane_dns_names": []}
		]`,
		guests: []fakeGuest{{namespace: "dev", name: "tkc01", server: "10.10.80.5", caPEM: testGuestCA}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /wcp/login", f.login)
	mux.HandleFunc("GET /wcp/workloads", f.listWorkloads)
	mux.HandleFunc("GET /wcp/loginbanner", f.loginBanner)
	release := make(chan struct{})
	f.Server = httptest.NewUnstartedServer(f.hanging(mux, release))
	// Declined certificates make the server log handshake errors; they are
	// expected.
	f.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.StartTLS()
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(release) }) // runs first: no handler outlives the test
	return f
}

// hanging makes requests wait, when f.hang is set, until the client hangs
// up or the test ends.
func (f *fakeSupervisor) hanging(next http.Handler, release chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.hang.Load() {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeSupervisor) login(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/json" {
		writeFakeError(w, http.StatusUnsupportedMediaType, "bad_request", "send application/json")
		return
	}
	user, password, ok := r.BasicAuth()
	if !ok || user != f.username || password != f.password {
		w.Header().Set("WWW-Authenticate", `Basic realm="vSphere", charset="UTF-8"`)
		writeFakeError(w, http.StatusUnauthorized, "unauthenticated", "the user name or password is incorrect")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		GuestClusterName      string `json:"guest_cluster_name"`
		GuestClusterNamespace string `json:"guest_cluster_namespace"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeFakeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	token := f.issueToken(string(body), req.GuestClusterName)
	answer := map[string]string{"session_id": token}
	if req.GuestClusterName != "" {
		// An unknown (or forbidden) guest cluster is a 200 with an empty
		// guest_cluster_server.
		answer["guest_cluster_server"], answer["guest_cluster_ca"] = "", ""
		if g, ok := f.guest(req.GuestClusterName, req.GuestClusterNamespace); ok {
			answer["guest_cluster_server"] = g.server
			answer["guest_cluster_ca"] = base64.StdEncoding.EncodeToString([]byte(g.caPEM))
		}
	}
	writeFakeJSON(w, http.StatusOK, answer)
}

func (f *fakeSupervisor) issueToken(body, guest string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loginCount++
	f.loginBody = append(f.loginBody, body)
	kind := "supervisor"
	if guest != "" {
		kind = "guest"
	}
	token := fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.%s-session-%d.c2ln", kind, f.loginCount)
	f.tokens = append(f.tokens, token)
	return token
}

func (f *fakeSupervisor) guest(name, namespace string) (fakeGuest, bool) {
	for _, g := range f.guests {
		if g.name == name && (namespace == "" || g.namespace == namespace) {
			return g, true
		}
	}
	return fakeGuest{}, false
}

// listWorkloads accepts the Basic credentials or a token it issued.
func (f *fakeSupervisor) listWorkloads(w http.ResponseWriter, r *http.Request) {
	user, password, basic := r.BasicAuth()
	token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !(basic && user == f.username && password == f.password) && !(bearer && f.issued(token)) {
		writeFakeError(w, http.StatusUnauthorized, "unauthenticated", "log in first")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, f.workloads)
}

func (f *fakeSupervisor) issued(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		if t == token {
			return true
		}
	}
	return false
}

func (f *fakeSupervisor) loginBanner(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, f.banner)
}

func (f *fakeSupervisor) logins() (count int, bodies []string, tokens []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loginCount, append([]string(nil), f.loginBody...), append([]string(nil), f.tokens...)
}

func writeFakeError(w http.ResponseWriter, status int, code, message string) {
	writeFakeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeFakeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func encodeBase64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
