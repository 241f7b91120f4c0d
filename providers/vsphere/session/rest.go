package session

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	ctrl "sigs.k8s.io/controller-runtime"
)

// sharedSessionAPIVersion is the first vSphere API that takes a SOAP
// (VIM) session's id as a vAPI session (vSphere 8.0 Update 3, "re-use a
// vSphere Management (VIM) session for making vSphere Automation (vAPI)
// calls"). Older vCenters need a second login for the REST API.
var sharedSessionAPIVersion = []int{8, 0, 3}

// WithREST runs fn with the session's vAPI REST client (content library,
// OVF deploy). On vCenter 8.0 U3 and later it rides on the SOAP session;
// before that it logs in on first use. Either way a 401 renews it once.
func (s *Session) WithREST(ctx context.Context, fn func(*rest.Client) error) error {
	rc, gen, err := s.restClient(ctx, -1)
	if err != nil {
		return err
	}
	err = fn(rc)
	if err == nil || !strings.Contains(err.Error(), "401") {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("vCenter REST session is no longer valid, renewing it")
	if rc, _, err = s.restClient(ctx, gen); err != nil {
		return err
	}
	return fn(rc)
}

// restClient returns the REST client and the generation it belongs to.
// A stale generation (the caller's client got a 401) renews it, once for
// all callers that saw the same 401.
func (s *Session) restClient(ctx context.Context, stale int64) (*rest.Client, int64, error) {
	s.restMu.Lock()
	defer s.restMu.Unlock()
	if s.rest != nil && s.restGeneration != stale {
		return s.rest, s.restGeneration, nil
	}
	renew := s.rest != nil
	var rc *rest.Client
	var err error
	if SharesSOAPSession(s.Client) {
		rc, err = s.restOnSOAPSession(ctx, renew)
	} else {
		rc, err = s.restLogin(ctx, renew)
	}
	if err != nil {
		return nil, 0, err
	}
	s.rest = rc
	s.restGeneration++
	return rc, s.restGeneration, nil
}

// restOnSOAPSession gives the REST client the SOAP session's id. When
// renewing, the shared session may have died: asking vCenter for it
// through the SOAP client logs in again if so (reloginRoundTripper), and
// the id is taken afresh.
func (s *Session) restOnSOAPSession(ctx context.Context, renew bool) (*rest.Client, error) {
	if renew {
		if _, err := session.NewManager(s.Client).UserSession(ctx); err != nil {
			return nil, fmt.Errorf("failed to renew the vCenter session the REST API shares: %w", err)
		}
	}
	id := soapSessionID(s.Client)
	if id == "" {
		return nil, fmt.Errorf("the vCenter SOAP session has no %s cookie to share with the REST API", soap.SessionCookieName)
	}
	rc := rest.NewClient(s.Client)
	rc.SessionID(id)
	return rc, nil
}

// restLogin opens a REST session of its own, for vCenters before 8.0 U3.
func (s *Session) restLogin(ctx context.Context, renew bool) (*rest.Client, error) {
	rc := rest.NewClient(s.Client)
	if err := rc.Login(ctx, url.UserPassword(s.params.Username, s.params.Password)); err != nil {
		return nil, fmt.Errorf("failed to log in to the vCenter REST API as %s: %w", s.params.Username, err)
	}
	s.stats.Sessions.Add(1)
	reason := "new"
	if renew {
		reason = "relogin"
	}
	vcenterRESTLogins.WithLabelValues(reason).Inc()
	return rc, nil
}

// SharesSOAPSession says whether the vCenter behind c accepts its SOAP
// session for REST calls: a vCenter (not an ESXi host) whose API is 8.0.3
// or later.
func SharesSOAPSession(c *vim25.Client) bool {
	about := c.ServiceContent.About
	return about.ApiType == "VirtualCenter" && versionAtLeast(about.ApiVersion, sharedSessionAPIVersion)
}

// versionAtLeast compares a dotted version ("8.0.3.0") with min.
func versionAtLeast(version string, min []int) bool {
	parts := strings.Split(version, ".")
	for i, want := range min {
		got := 0
		if i < len(parts) {
			if _, err := fmt.Sscanf(parts[i], "%d", &got); err != nil {
				return false
			}
		}
		if got != want {
			return got > want
		}
	}
	return true
}

// soapSessionID is the SOAP session's id as vAPI takes it: the
// vmware_soap_session cookie's value without the quotes vCenter puts
// around it.
func soapSessionID(c *vim25.Client) string {
	cookie := c.SessionCookie()
	if cookie == nil {
		return ""
	}
	return strings.Trim(cookie.Value, `"`)
}
