package vapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
)

// SessionHeader carries the session id on every call after login, and
// names the legacy form's cookie.
const SessionHeader = "vmware-api-session-id"

// sessionCheckTTL is how long a session vCenter confirmed is trusted
// without asking again.
const sessionCheckTTL = 30 * time.Second

// sessions are vCenter's own: a login is a login to vCenter with the
// caller's credentials, and its session id is vCenter's, so that it is
// valid both here and on every vCenter path the front passes through. The
// supervisor keeps only which ids vCenter confirmed, and when.
type sessions struct {
	vcURL    *url.URL
	caFile   string
	insecure bool

	mu      sync.Mutex
	vim     *vim25.Client
	checked map[string]checkedSession
}

type checkedSession struct {
	user string
	at   time.Time
}

// vimClient is an unauthenticated client of vCenter, made once, from
// which each call's REST client is made.
func (s *sessions) vimClient(ctx context.Context) (*vim25.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vim != nil {
		return s.vim, nil
	}
	sc := soap.NewClient(s.vcURL, s.insecure)
	if s.caFile != "" {
		if err := sc.SetRootCAs(s.caFile); err != nil {
			return nil, fmt.Errorf("failed to read vCenter's CA %s: %w", s.caFile, err)
		}
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("failed to reach vCenter at %s: %w", s.vcURL.Host, err)
	}
	s.vim = vc
	return vc, nil
}

func (s *sessions) rest(ctx context.Context) (*rest.Client, error) {
	vc, err := s.vimClient(ctx)
	if err != nil {
		return nil, &apiError{Type: errServiceUnavail, Messages: []Message{{ID: "vcenter.wcp.vcenter.unreachable", DefaultMessage: err.Error(), Args: []string{}}}}
	}
	return rest.NewClient(vc), nil
}

// login logs in to vCenter as user and returns vCenter's session id. The
// password goes to vCenter and nowhere else.
func (s *sessions) login(ctx context.Context, user, password string) (string, error) {
	rc, err := s.rest(ctx)
	if err != nil {
		return "", err
	}
	if err := rc.Login(ctx, url.UserPassword(user, password)); err != nil {
		return "", newError(errUnauthenticated, "com.vmware.vapi.endpoint.method.authentication.required", "authentication failed for %s", user)
	}
	id := rc.SessionID()
	s.remember(id, user)
	return id, nil
}

func (s *sessions) remember(id, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checked == nil {
		s.checked = map[string]checkedSession{}
	}
	s.checked[id] = checkedSession{user: user, at: time.Now()}
	// Forget what is stale, so the table does not grow with every login.
	for k, c := range s.checked {
		if time.Since(c.at) > sessionCheckTTL {
			delete(s.checked, k)
		}
	}
}

// user returns who holds session id, asking vCenter unless it confirmed
// the id lately.
func (s *sessions) user(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", newError(errUnauthenticated, "com.vmware.vapi.endpoint.method.authentication.required", "this call needs a session: send the %s header", SessionHeader)
	}
	s.mu.Lock()
	c, ok := s.checked[id]
	s.mu.Unlock()
	if ok && time.Since(c.at) < sessionCheckTTL {
		return c.user, nil
	}
	rc, err := s.rest(ctx)
	if err != nil {
		return "", err
	}
	rc.SessionID(id)
	info, err := rc.Session(ctx)
	if err != nil {
		return "", &apiError{Type: errServiceUnavail, Messages: []Message{{ID: "vcenter.wcp.vcenter.unreachable", DefaultMessage: fmt.Sprintf("failed to check the session with vCenter: %v", err), Args: []string{}}}}
	}
	if info == nil {
		return "", newError(errUnauthenticated, "com.vmware.vapi.endpoint.method.authentication.required", "the session is not valid (expired or logged out)")
	}
	s.remember(id, info.User)
	return info.User, nil
}

func (s *sessions) logout(ctx context.Context, id string) error {
	rc, err := s.rest(ctx)
	if err != nil {
		return err
	}
	rc.SessionID(id)
	s.mu.Lock()
	delete(s.checked, id)
	s.mu.Unlock()
	return rc.Logout(ctx)
}

// sessionID is the caller's session: the header, or the legacy cookie.
func sessionID(r *http.Request) string {
	if id := r.Header.Get(SessionHeader); id != "" {
		return id
	}
	if c, err := r.Cookie(SessionHeader); err == nil {
		return c.Value
	}
	return ""
}

type userKey struct{}

// authenticated wraps h so that it runs only for a valid session, with the
// session's user in the request's context.
func (s *Server) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := s.sessions.user(r.Context(), sessionID(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	}
}

// createSession: POST /api/session (201, the id as a JSON string) and
// POST /rest/com/vmware/cis/session (200, {"value": id}, and the cookie
// unless the caller asked for header authentication).
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok || user == "" {
		writeError(w, r, newError(errUnauthenticated, "com.vmware.vapi.endpoint.method.authentication.required", "send the user's credentials with Basic authentication"))
		return
	}
	id, err := s.sessions.login(r.Context(), user, password)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if formOf(r) == formREST {
		if !strings.EqualFold(r.Header.Get("vmware-use-header-authn"), "true") {
			http.SetCookie(w, &http.Cookie{Name: SessionHeader, Value: id, Path: "/", Secure: true, HttpOnly: true})
		}
		writeResult(w, r, id)
		return
	}
	writeJSON(w, http.StatusCreated, id)
}

// getSession: GET /api/session, POST /rest/com/vmware/cis/session?~action=get.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	id := sessionID(r)
	user, err := s.sessions.user(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc, err := s.sessions.rest(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	rc.SessionID(id)
	info, err := rc.Session(r.Context())
	if err != nil || info == nil {
		info = &rest.Session{User: user}
	}
	writeResult(w, r, map[string]any{"user": info.User, "created_time": info.Created, "last_accessed_time": info.LastAccessed})
}

// deleteSession: DELETE /api/session and /rest/com/vmware/cis/session.
func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id := sessionID(r)
	if _, err := s.sessions.user(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.sessions.logout(r.Context(), id); err != nil && !errors.Is(err, context.Canceled) {
		writeError(w, r, err)
		return
	}
	writeDone(w, r)
}
