package vcsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
)

// vCenter's version as the simulator reports it: 8.0 Update 3, the first
// that takes a SOAP session's id for REST calls.
const (
	aboutVersion    = "8.0.3"
	aboutAPIVersion = "8.0.3.0"
)

// restSessionHeader is the vAPI session header (and cookie) name.
const restSessionHeader = "vmware-api-session-id"

// soapSessions lets the simulator's vAPI endpoints take a live SOAP
// session's id as vCenter 8.0 U3 does ("re-use a vSphere Management (VIM)
// session for making vSphere Automation (vAPI) calls"). vcsim's vAPI
// handler knows only its own sessions, so a SOAP id is mapped to a vAPI
// session of its own, opened on first use; a SOAP session that has ended
// is refused with 401, as on vCenter.
type soapSessions struct {
	vapi http.Handler
	// sdk is an unauthenticated client of the simulator, to ask whether a
	// SOAP session is live.
	sdk *vim25.Client

	mu     sync.Mutex
	bySOAP map[string]string
}

// shareSOAPSessions puts soapSessions in front of the vAPI endpoints of a
// started simulator.
func shareSOAPSessions(mux *http.ServeMux, sdk *vim25.Client) {
	s := &soapSessions{sdk: sdk, bySOAP: map[string]string{}}
	s.vapi, _ = mux.Handler(httptest.NewRequest(http.MethodGet, "/rest/", nil))
	// A method-qualified pattern is more specific than vcsim's "/rest/" and
	// "/api/", so these take the requests without unregistering it.
	for _, prefix := range []string{"/rest/", "/api/"} {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			mux.Handle(method+" "+prefix, s)
		}
	}
}

func (s *soapSessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestSessionID(r)
	if id == "" || s.isVAPISession(id) {
		s.vapi.ServeHTTP(w, r)
		return
	}
	live, err := s.soapSessionLive(r.Context(), id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !live {
		s.forget(id)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	vapiID, err := s.vapiSessionFor(id)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	r.Header.Set(restSessionHeader, vapiID)
	if c, err := r.Cookie(restSessionHeader); err == nil && c.Value == id {
		r.Header.Del("Cookie")
	}
	s.vapi.ServeHTTP(w, r)
}

// requestSessionID is the session a vAPI request carries, header first.
func requestSessionID(r *http.Request) string {
	if id := r.Header.Get(restSessionHeader); id != "" {
		return id
	}
	if c, err := r.Cookie(restSessionHeader); err == nil {
		return c.Value
	}
	return ""
}

// isVAPISession says whether id is a session the vAPI handler opened
// itself (a REST login), which passes through untouched.
func (s *soapSessions) isVAPISession(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.bySOAP {
		if v == id {
			return false
		}
	}
	return s.vapiAlive(id)
}

// vapiAlive asks the vAPI handler whether it knows id; s.mu is held.
func (s *soapSessions) vapiAlive(id string) bool {
	req := httptest.NewRequest(http.MethodGet, "/rest/com/vmware/cis/session", nil)
	req.Header.Set(restSessionHeader, id)
	rec := httptest.NewRecorder()
	s.vapi.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

// vapiSessionFor returns the vAPI session mapped to a live SOAP session,
// opening one (again, if vcsim let the last one expire).
func (s *soapSessions) vapiSessionFor(soapID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.bySOAP[soapID]; ok && s.vapiAlive(id) {
		return id, nil
	}
	// vcsim's vAPI handler opens a session for any token ("SIGN ..."); the
	// SOAP session was checked instead.
	req := httptest.NewRequest(http.MethodPost, "/rest/com/vmware/cis/session", nil)
	req.Header.Set("Authorization", "SIGN token=shared-soap-session")
	req.Header.Set("vmware-use-header-authn", "true")
	rec := httptest.NewRecorder()
	s.vapi.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return "", fmt.Errorf("vcsim refused a vAPI session for a SOAP session: %d", rec.Code)
	}
	var body struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Value == "" {
		return "", fmt.Errorf("vcsim answered a vAPI login with %q: %v", rec.Body.String(), err)
	}
	s.bySOAP[soapID] = body.Value
	return body.Value, nil
}

func (s *soapSessions) forget(soapID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bySOAP, soapID)
}

// soapSessionLive asks the simulator for the current session of a client
// that presents soapID as its vmware_soap_session cookie.
func (s *soapSessions) soapSessionLive(ctx context.Context, soapID string) (bool, error) {
	sc := s.sdk.Client.NewServiceClient(vim25.Path, "vim25")
	u := sc.URL()
	u.Path = "/"
	sc.Jar.SetCookies(u, []*http.Cookie{{Name: soap.SessionCookieName, Value: soapID}})
	c := &vim25.Client{Client: sc, ServiceContent: s.sdk.ServiceContent, RoundTripper: sc}
	us, err := session.NewManager(c).UserSession(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "NotAuthenticated") {
			return false, nil
		}
		return false, fmt.Errorf("failed to check SOAP session: %w", err)
	}
	return us != nil, nil
}
