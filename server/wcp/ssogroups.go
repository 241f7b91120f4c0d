package wcp

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/vmware/govmomi/ssoadmin"
	ssotypes "github.com/vmware/govmomi/ssoadmin/types"
	"github.com/vmware/govmomi/sts"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	ctrl "sigs.k8s.io/controller-runtime"
)

// SSOGroups asks vCenter's SSO admin service which groups a user belongs
// to, directly or through nested groups (GroupCheckService
// FindAllParentGroups). It acts as a service account: the supervisor's own
// vCenter client finds the SSO endpoints through the lookup service, and
// the account's credentials get an STS bearer token for the SSO admin
// login. The account needs no SSO administrator role beyond what group
// checks require; nothing is kept between calls.
type SSOGroups struct {
	vcenter     func(ctx context.Context) (*vim25.Client, error)
	credentials *url.Userinfo
}

var _ GroupSource = &SSOGroups{}

// NewSSOGroups returns a GroupSource asking SSO. vcenter returns an
// authenticated client of vCenter (the supervisor's shared session);
// credentials are the service account's, for the STS token.
func NewSSOGroups(vcenter func(ctx context.Context) (*vim25.Client, error), credentials *url.Userinfo) *SSOGroups {
	return &SSOGroups{vcenter: vcenter, credentials: credentials}
}

// GroupsOf returns every group user is a member of.
func (s *SSOGroups) GroupsOf(ctx context.Context, user Principal) ([]Principal, error) {
	if s.vcenter == nil || s.credentials == nil {
		return nil, errors.New("SSO group lookups need a vCenter client and service account credentials")
	}
	var ids []ssotypes.PrincipalId
	err := s.withAdmin(ctx, func(admin *ssoadmin.Client) error {
		var err error
		ids, err = admin.FindParentGroups(ctx, ssotypes.PrincipalId{Name: user.Name, Domain: user.Domain})
		if err != nil {
			return fmt.Errorf("failed to find the groups of %s: %w", user, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	groups := make([]Principal, 0, len(ids))
	for _, id := range ids {
		groups = append(groups, Principal{Name: id.Name, Domain: id.Domain})
	}
	return groups, nil
}

// withAdmin runs fn with an SSO admin client logged in as the service
// account, and logs out after.
func (s *SSOGroups) withAdmin(ctx context.Context, fn func(*ssoadmin.Client) error) error {
	vc, err := s.vcenter(ctx)
	if err != nil {
		return fmt.Errorf("failed to get a vCenter client: %w", err)
	}
	admin, err := ssoadmin.NewClient(ctx, vc)
	if err != nil {
		return fmt.Errorf("failed to reach the SSO admin service: %w", err)
	}
	tokens, err := sts.NewClient(ctx, vc)
	if err != nil {
		return fmt.Errorf("failed to reach the SSO token service: %w", err)
	}
	signer, err := tokens.Issue(ctx, sts.TokenRequest{Userinfo: s.credentials})
	if err != nil {
		return fmt.Errorf("failed to get an SSO token for %s: %w", s.credentials.Username(), err)
	}
	if err := admin.Login(admin.WithHeader(ctx, soap.Header{Security: signer})); err != nil {
		return fmt.Errorf("failed to log in to the SSO admin service as %s: %w", s.credentials.Username(), err)
	}
	defer func() {
		if err := admin.Logout(context.WithoutCancel(ctx)); err != nil {
			ctrl.LoggerFrom(ctx).V(4).Info("Failed to log out of the SSO admin service", "err", err.Error())
		}
	}()
	return fn(admin)
}
