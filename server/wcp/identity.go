package wcp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

// DefaultDomain is the SSO domain of a user name given without one.
const DefaultDomain = vspherev1.SSODefaultDomain

// KubernetesNamePrefix starts the Kubernetes user and group names of SSO
// principals: kube-apiserver's claim mappings put it in front of the
// token's sub and groups claims, so that the names match the RoleBindings
// of vSphere Namespaces' access lists.
const KubernetesNamePrefix = vspherev1.SSONamePrefix

// Sentinel errors of Authenticate; callers branch on them with errors.Is.
var (
	// ErrInvalidCredentials: vCenter refused the user name or password.
	ErrInvalidCredentials = errors.New("invalid user name or password")
	// ErrIdentityUnavailable: vCenter (or the group source) could not be
	// asked, so nothing is known about the credentials.
	ErrIdentityUnavailable = errors.New("the identity source is unavailable")
)

// Principal is an SSO user or group: a name in a domain.
type Principal struct {
	Name   string
	Domain string
}

// String is the principal's name@domain, the form of the token's claims.
func (p Principal) String() string { return p.Name + "@" + p.Domain }

// Is says whether p and o name the same principal; SSO names and domains
// are case-insensitive.
func (p Principal) Is(o Principal) bool {
	return strings.EqualFold(p.Name, o.Name) && strings.EqualFold(p.Domain, o.Domain)
}

// ParseUsername reads a login name given as user@domain, DOMAIN\user or
// user (in DefaultDomain). The domain is lowercased: domains are DNS names;
// the user name keeps its case.
func ParseUsername(s string) (Principal, error) {
	s = strings.TrimSpace(s)
	var p Principal
	switch {
	case strings.Contains(s, `\`):
		domain, name, _ := strings.Cut(s, `\`)
		p = Principal{Name: name, Domain: domain}
	case strings.Contains(s, "@"):
		i := strings.LastIndex(s, "@")
		p = Principal{Name: s[:i], Domain: s[i+1:]}
	default:
		p = Principal{Name: s, Domain: DefaultDomain}
	}
	p.Name = strings.TrimSpace(p.Name)
	p.Domain = strings.ToLower(strings.TrimSpace(p.Domain))
	if p.Name == "" || p.Domain == "" || strings.ContainsAny(p.Name, `\`) {
		return Principal{}, fmt.Errorf("user name %q is not user@domain or DOMAIN\\user", s)
	}
	return p, nil
}

// Identity is who a login proved to be: the user and the groups vCenter
// says the user belongs to.
type Identity struct {
	User   string
	Domain string
	Groups []Principal
}

// Principal is the identity's user as a principal.
func (i Identity) Principal() Principal { return Principal{Name: i.User, Domain: i.Domain} }

// Subject is the token's sub claim: user@domain.
func (i Identity) Subject() string { return i.Principal().String() }

// GroupNames are the token's groups claim: group@domain each, sorted,
// without duplicates.
func (i Identity) GroupNames() []string {
	seen := map[string]bool{}
	out := []string{}
	for _, g := range i.Groups {
		if name := g.String(); !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// InGroup says whether the identity belongs to group.
func (i Identity) InGroup(group Principal) bool {
	for _, g := range i.Groups {
		if g.Is(group) {
			return true
		}
	}
	return false
}

// Authenticator checks a user's credentials. It returns an error wrapping
// ErrInvalidCredentials when they are wrong and ErrIdentityUnavailable when
// they could not be checked. Implementations must not keep or log the
// password.
type Authenticator interface {
	Authenticate(ctx context.Context, username, password string) (Identity, error)
}

// GroupSource tells which groups a user belongs to. An error means the
// groups are unknown; the login then fails rather than issue a token with
// fewer groups than the user has.
type GroupSource interface {
	GroupsOf(ctx context.Context, user Principal) ([]Principal, error)
}

// NoGroups is a GroupSource for which nobody is in any group.
type NoGroups struct{}

// GroupsOf returns no group.
func (NoGroups) GroupsOf(context.Context, Principal) ([]Principal, error) { return nil, nil }

// StaticGroups is a fixed group membership, user name@domain (any case) →
// groups; the embedded stack and tests use it where vCenter cannot tell.
type StaticGroups map[string][]Principal

// GroupsOf returns the groups listed for user.
func (s StaticGroups) GroupsOf(_ context.Context, user Principal) ([]Principal, error) {
	for name, groups := range s {
		if p, err := ParseUsername(name); err == nil && p.Is(user) {
			return append([]Principal(nil), groups...), nil
		}
	}
	return nil, nil
}
