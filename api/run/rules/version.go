package rules

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Version is a TanzuKubernetesRelease version, v<major>.<minor>.<patch>
// followed by VMware's build suffix ("+vmware.1-tkg.1"), or a prefix of one
// (a version hint such as "v1.18").
type Version struct {
	// Core holds major, minor and patch; a hint may hold fewer.
	Core []uint64
	// Build holds the suffix split at "." and "-": vmware, 1, tkg, 1.
	Build []string
}

// ParseVersion parses a full version or a hint; the leading "v" is optional.
func ParseVersion(s string) (Version, error) {
	core, build, hasBuild := strings.Cut(strings.TrimPrefix(s, "v"), "+")
	var v Version
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q has more than major, minor and patch", s)
	}
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("version %q: %q is not a number", s, p)
		}
		v.Core = append(v.Core, n)
	}
	if hasBuild {
		if len(v.Core) != 3 || build == "" {
			return Version{}, fmt.Errorf("version %q: a build suffix needs major, minor and patch", s)
		}
		v.Build = strings.FieldsFunc(build, func(r rune) bool { return r == '.' || r == '-' })
	}
	return v, nil
}

// Major is the major version.
func (v Version) Major() uint64 { return v.at(0) }

// Minor is the minor version.
func (v Version) Minor() uint64 { return v.at(1) }

func (v Version) at(i int) uint64 {
	if i < len(v.Core) {
		return v.Core[i]
	}
	return 0
}

// Compare orders versions: core numerically, then the build suffix part by
// part (numerically where both parts are numbers, so vmware.10 > vmware.9).
func (v Version) Compare(o Version) int {
	for i := range 3 {
		if c := cmp.Compare(v.at(i), o.at(i)); c != 0 {
			return c
		}
	}
	for i := 0; i < len(v.Build) && i < len(o.Build); i++ {
		a, aerr := strconv.ParseUint(v.Build[i], 10, 64)
		b, berr := strconv.ParseUint(o.Build[i], 10, 64)
		c := strings.Compare(v.Build[i], o.Build[i])
		if aerr == nil && berr == nil {
			c = cmp.Compare(a, b)
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(v.Build), len(o.Build))
}

// HasPrefix says whether hint is a semantic prefix of v: v1.15.1 is one of
// v1.15.1+vmware.2-tkg.1 but not of v1.15.10+vmware.1-tkg.1.
func (v Version) HasPrefix(hint Version) bool {
	if len(hint.Core) > len(v.Core) || len(hint.Build) > len(v.Build) {
		return false
	}
	for i, n := range hint.Core {
		if v.Core[i] != n {
			return false
		}
	}
	for i, b := range hint.Build {
		if v.Build[i] != b {
			return false
		}
	}
	return true
}

// ReleaseName is the object name of the release of a version: names may not
// hold "+", so TanzuKubernetesReleases spell it "---"; a version written
// without its leading "v" (1.20.12+vmware.1-tkg.1.b9a42f3, as some published
// manifests do) names the release with it, as tanzu-framework's TKRName does.
func ReleaseName(version string) string {
	if version == "" {
		return ""
	}
	return "v" + strings.ReplaceAll(strings.TrimPrefix(version, "v"), "+", "---")
}

// ReleaseVersion is the version a release object name stands for.
func ReleaseVersion(name string) string { return strings.ReplaceAll(name, "---", "+") }
