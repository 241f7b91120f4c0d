package rules

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resolve returns the newest compatible release whose version has the hint
// as a semantic prefix; an empty hint picks the newest compatible release.
func Resolve(hint string, releases []Release) (Release, error) {
	h, err := ParseVersion(hint)
	if hint == "" {
		h, err = Version{}, nil
	}
	if err != nil {
		return Release{}, err
	}
	var best Release
	var bestV Version
	found := false
	for _, r := range releases {
		v, err := ParseVersion(r.Version)
		if err != nil || r.Incompatible || !v.HasPrefix(h) {
			continue
		}
		if !found || v.Compare(bestV) > 0 {
			best, bestV, found = r, v, true
		}
	}
	if !found {
		return Release{}, fmt.Errorf("no compatible TanzuKubernetesRelease matches %q", hint)
	}
	return best, nil
}

// ByVersion finds the release of a full version; the leading "v" is
// optional, as in manifests that write 1.20.12+vmware.1-tkg.1.b9a42f3.
func ByVersion(version string, releases []Release) (Release, bool) {
	version = "v" + strings.TrimPrefix(version, "v")
	for _, r := range releases {
		if r.Version == version {
			return r, true
		}
	}
	return Release{}, false
}

// ByName finds the release of an object name.
func ByName(name string, releases []Release) (Release, bool) {
	for _, r := range releases {
		if r.Name == name {
			return r, true
		}
	}
	return Release{}, false
}

// HintMatches says whether hint is a semantic prefix of the full version;
// an empty hint matches anything.
func HintMatches(hint, full string) bool {
	if hint == "" {
		return true
	}
	h, herr := ParseVersion(hint)
	f, ferr := ParseVersion(full)
	return herr == nil && ferr == nil && f.HasPrefix(h)
}

// ValidateHint checks that a version hint is a semantic prefix of the full
// version it resolved to; a hint that no longer matches is rejected rather
// than silently ignored.
func ValidateHint(path *field.Path, hint, full string) field.ErrorList {
	if hint == "" || full == "" {
		return nil
	}
	h, err := ParseVersion(hint)
	if err != nil {
		return field.ErrorList{field.Invalid(path, hint, err.Error())}
	}
	f, err := ParseVersion(full)
	if err != nil || !f.HasPrefix(h) {
		return field.ErrorList{field.Invalid(path, hint, fmt.Sprintf("does not match the full version %q", full))}
	}
	return nil
}

// ValidateUpgrade checks a version change: the version may not decrease, the
// major may not change and the minor may only go up by one, since kubeadm
// upgrades one minor at a time.
func ValidateUpgrade(path *field.Path, oldVersion, newVersion string) field.ErrorList {
	if oldVersion == "" || oldVersion == newVersion {
		return nil
	}
	o, oerr := ParseVersion(oldVersion)
	n, nerr := ParseVersion(newVersion)
	if oerr != nil || nerr != nil {
		return nil // the release checks report unparsable versions
	}
	switch {
	case n.Compare(o) < 0:
		return field.ErrorList{field.Invalid(path, newVersion, fmt.Sprintf("may not be lower than %s", oldVersion))}
	case n.Major() != o.Major():
		return field.ErrorList{field.Invalid(path, newVersion, fmt.Sprintf("may not change the major version of %s", oldVersion))}
	case n.Minor() > o.Minor()+1:
		return field.ErrorList{field.Invalid(path, newVersion, fmt.Sprintf("may go up one minor version at a time from %s", oldVersion))}
	}
	return nil
}
