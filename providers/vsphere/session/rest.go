package session

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/vmware/govmomi/vapi/rest"
)

// WithREST runs fn with the session's vAPI REST client (content library,
// OVF deploy), logging in on first use and once more if vCenter answers 401.
func (s *Session) WithREST(ctx context.Context, fn func(*rest.Client) error) error {
	rc, err := s.restClient(ctx, false)
	if err != nil {
		return err
	}
	err = fn(rc)
	if err == nil || !strings.Contains(err.Error(), "401") {
		return err
	}
	if rc, err = s.restClient(ctx, true); err != nil {
		return err
	}
	return fn(rc)
}

func (s *Session) restClient(ctx context.Context, relogin bool) (*rest.Client, error) {
	s.restMu.Lock()
	defer s.restMu.Unlock()
	if s.rest != nil && !relogin {
		return s.rest, nil
	}
	rc := rest.NewClient(s.Client)
	if err := rc.Login(ctx, url.UserPassword(s.params.Username, s.params.Password)); err != nil {
		return nil, fmt.Errorf("failed to log in to the vCenter REST API as %s: %w", s.params.Username, err)
	}
	s.stats.Sessions.Add(1)
	s.rest = rc
	return rc, nil
}
