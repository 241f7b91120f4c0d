package embedded

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-supervisor/supervisor/server/wcp"
)

// The embedded vCenter's users besides its administrator, so that a
// walkthrough (and the tests) can give DevOps users different access:
// devops is in the DevOps group, viewer in none.
const (
	DevOpsUser  = "devops@vsphere.local"
	DevOpsGroup = "DevOps@vsphere.local"
	ViewerUser  = "viewer@vsphere.local"
)

// newUsers gives each user a random password.
func newUsers() map[string]string {
	users := map[string]string{}
	for _, u := range []string{DevOpsUser, ViewerUser} {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		users[u] = base64.RawURLEncoding.EncodeToString(b)
	}
	return users
}

// groups are the users' SSO groups, as the login service reads them: the
// administrator is in vCenter's Administrators group.
func (s *Stack) groups() (wcp.StaticGroups, error) {
	groups := wcp.StaticGroups{}
	for user, group := range map[string]string{s.sim.Username: wcp.DefaultAdministratorsGroup, DevOpsUser: DevOpsGroup} {
		p, err := wcp.ParseUsername(group)
		if err != nil {
			return nil, err
		}
		groups[user] = []wcp.Principal{p}
	}
	return groups, nil
}

// Users are the embedded vCenter's users besides the administrator, with
// their passwords.
func (s *Stack) Users() map[string]string { return s.users }

// writeUsers writes the users' passwords, one "user password" a line,
// for the walkthrough (the state directory is the user's own).
func (s *Stack) writeUsers() error {
	names := make([]string, 0, len(s.users))
	for u := range s.users {
		names = append(names, u)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, u := range names {
		fmt.Fprintf(&b, "%s %s\n", u, s.users[u])
	}
	return os.WriteFile(filepath.Join(s.dir, "users"), []byte(b.String()), 0o600)
}
