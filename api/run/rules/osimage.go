package rules

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/internal/tkrname"
)

// ResolveOSImageAnnotation picks the OS of a cluster's nodes among its
// release's images, as on vSphere 8: "os-name=ubuntu", or with a version,
// "os-name=ubuntu,os-version=22.04" (a label selector over os-name,
// os-version and os-arch).
const ResolveOSImageAnnotation = "run.tanzu.vmware.com/resolve-os-image"

// osKeys are the keys the selector may name.
var osKeys = map[string]bool{"os-name": true, "os-version": true, "os-arch": true}

// ParseOSSelector reads the annotation's value; empty selects the
// release's default image.
func ParseOSSelector(value string) (labels.Selector, error) {
	sel, err := labels.Parse(value)
	if err != nil {
		return nil, err
	}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		if !osKeys[r.Key()] {
			return nil, fmt.Errorf("unknown key %q: the selector may name os-name, os-version and os-arch", r.Key())
		}
	}
	return sel, nil
}

// SelectImage returns the first of a release's images the selector
// matches (nil selects the first), and whether there is one.
func SelectImage(images []string, sel labels.Selector) (string, bool) {
	for _, name := range images {
		if sel == nil || sel.Empty() {
			return name, true
		}
		img, ok := tkrname.Parse(name)
		if !ok {
			continue
		}
		if sel.Matches(labels.Set{"os-name": img.OSName, "os-version": img.OSVersion, "os-arch": "amd64"}) {
			return name, true
		}
	}
	return "", false
}

// ValidateOSImage checks a cluster's resolve-os-image annotation: it must
// parse, and every release the cluster names must have a matching image.
func ValidateOSImage(annotations map[string]string, releaseNames []string, releases []Release) field.ErrorList {
	value, ok := annotations[ResolveOSImageAnnotation]
	if !ok {
		return nil
	}
	path := field.NewPath("metadata", "annotations").Key(ResolveOSImageAnnotation)
	sel, err := ParseOSSelector(value)
	if err != nil {
		return field.ErrorList{field.Invalid(path, value, err.Error())}
	}
	var errs field.ErrorList
	for _, name := range releaseNames {
		r, ok := ByName(name, releases)
		if !ok || len(r.Images) == 0 {
			continue // the release's own check reports it
		}
		if _, ok := SelectImage(r.Images, sel); !ok {
			errs = append(errs, field.Invalid(path, value, fmt.Sprintf("TanzuKubernetesRelease %s has no node image of this OS (it has %s)", name, strings.Join(r.Images, ", "))))
		}
	}
	return errs
}
