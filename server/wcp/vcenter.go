package wcp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	ctrl "sigs.k8s.io/controller-runtime"
)

// VCenterEndpoint says how to reach vCenter's SDK.
type VCenterEndpoint struct {
	// URL is the SDK URL (https://vcenter/sdk); any user info is ignored.
	URL *url.URL
	// CAFile is a PEM bundle vCenter's certificate must chain to.
	CAFile string
	// Thumbprint pins vCenter's certificate by its SHA-1 thumbprint instead.
	Thumbprint string
	// Insecure skips verifying vCenter's certificate. Only by explicit
	// choice.
	Insecure bool
	// UserAgent names the login service in vCenter's session list.
	UserAgent string
}

// newClient returns an unauthenticated vim25 client with its own cookie
// jar, so that one user's session never leaks into another's call.
func (e VCenterEndpoint) newClient(ctx context.Context) (*vim25.Client, error) {
	if e.URL == nil {
		return nil, errors.New("no vCenter URL is configured")
	}
	u := *e.URL
	u.User = nil
	sc := soap.NewClient(&u, e.Insecure)
	if e.CAFile != "" {
		if err := sc.SetRootCAs(e.CAFile); err != nil {
			return nil, fmt.Errorf("failed to read vCenter's CA bundle %s: %w", e.CAFile, err)
		}
	}
	if e.Thumbprint != "" {
		sc.SetThumbprint(u.Host, e.Thumbprint)
	}
	if e.UserAgent != "" {
		sc.UserAgent = e.UserAgent
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to vCenter %s: %w", u.Host, err)
	}
	return vc, nil
}

// VCenterAuthenticator checks credentials by logging in to vCenter with
// them (SOAP SessionManager.Login) and logging out again: nothing is kept,
// and the password goes to vCenter only. Groups come from a GroupSource,
// since the user's own session cannot list them.
type VCenterAuthenticator struct {
	endpoint VCenterEndpoint
	groups   GroupSource
}

var _ Authenticator = &VCenterAuthenticator{}

// NewVCenterAuthenticator returns an Authenticator against endpoint; groups
// may be nil (nobody is in any group).
func NewVCenterAuthenticator(endpoint VCenterEndpoint, groups GroupSource) *VCenterAuthenticator {
	if groups == nil {
		groups = NoGroups{}
	}
	return &VCenterAuthenticator{endpoint: endpoint, groups: groups}
}

// Authenticate logs in to vCenter as username and returns who vCenter says
// that is, with the user's groups.
func (a *VCenterAuthenticator) Authenticate(ctx context.Context, username, password string) (Identity, error) {
	typed, err := ParseUsername(username)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalidCredentials, err)
	}
	if password == "" {
		return Identity{}, fmt.Errorf("%w: the password is empty", ErrInvalidCredentials)
	}
	user, err := a.login(ctx, typed, password)
	if err != nil {
		return Identity{}, err
	}
	groups, err := a.groups.GroupsOf(ctx, user)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: failed to look up the groups of %s: %v", ErrIdentityUnavailable, user, err)
	}
	return Identity{User: user.Name, Domain: user.Domain, Groups: groups}, nil
}

// login logs in and out as user and returns the user as vCenter names it.
func (a *VCenterAuthenticator) login(ctx context.Context, user Principal, password string) (Principal, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("user", user.String())
	vc, err := a.endpoint.newClient(ctx)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrIdentityUnavailable, err)
	}
	sm := session.NewManager(vc)
	if err := sm.Login(ctx, url.UserPassword(user.String(), password)); err != nil {
		if isCredentialFault(err) {
			return Principal{}, fmt.Errorf("%w: vCenter refused the login of %s", ErrInvalidCredentials, user)
		}
		return Principal{}, fmt.Errorf("%w: failed to log in to vCenter as %s: %v", ErrIdentityUnavailable, user, err)
	}
	defer func() {
		if err := sm.Logout(context.WithoutCancel(ctx)); err != nil {
			log.V(4).Info("Failed to log out of vCenter after checking credentials", "err", err.Error())
		}
	}()
	return canonicalUser(ctx, sm, user), nil
}

// canonicalUser takes the user name's case from vCenter's session when it
// names the same user, so that "alice" and "Alice" log in as one subject.
func canonicalUser(ctx context.Context, sm *session.Manager, typed Principal) Principal {
	us, err := sm.UserSession(ctx)
	if err != nil || us == nil {
		return typed
	}
	reported, err := ParseUsername(us.UserName)
	if err != nil || !strings.EqualFold(reported.Name, typed.Name) {
		return typed
	}
	return Principal{Name: reported.Name, Domain: typed.Domain}
}

// isCredentialFault says whether vCenter refused the credentials, as
// opposed to failing to check them.
func isCredentialFault(err error) bool {
	return fault.Is(err, &types.InvalidLogin{}) || fault.Is(err, &types.NoPermission{}) ||
		fault.Is(err, &types.NotAuthenticated{})
}
