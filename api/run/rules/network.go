package rules

import (
	"fmt"
	"net/netip"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/internal/iprange"
)

// Network defaults, as vSphere documents them for every TKC version.
const (
	CNIAntrea            = "antrea"
	CNICalico            = "calico"
	DefaultCNI           = CNIAntrea
	DefaultPodCIDR       = "192.168.0.0/16"
	DefaultServiceCIDR   = "10.96.0.0/12"
	DefaultServiceDomain = "cluster.local"
)

// SupportedCNIs are the CNIs the supervisor ships addons for (templates/).
var SupportedCNIs = []string{CNIAntrea, CNICalico}

// ParseCIDRs parses IPv4 CIDR blocks. Host bits are accepted and dropped:
// users write 192.0.2.0/16 (VMware's own samples do) and mean 192.0.0.0/16.
func ParseCIDRs(path *field.Path, blocks []string) ([]netip.Prefix, field.ErrorList) {
	var errs field.ErrorList
	out := make([]netip.Prefix, 0, len(blocks))
	for i, b := range blocks {
		p, err := netip.ParsePrefix(b)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(path.Index(i), b, "not a CIDR block"))
		case !p.Addr().Is4():
			errs = append(errs, field.Invalid(path.Index(i), b, "only IPv4 is supported"))
		default:
			out = append(out, p.Masked())
		}
	}
	return out, errs
}

// ValidateNetwork checks a cluster's CNI and ranges: pods and services parse,
// don't overlap each other and don't overlap the supervisor's ranges. path is
// spec.settings.network; the CIDR lists are those after defaulting.
func ValidateNetwork(path *field.Path, cni string, pods, services []string, supervisor []Network) field.ErrorList {
	var errs field.ErrorList
	if !slices.Contains(SupportedCNIs, cni) {
		errs = append(errs, field.NotSupported(path.Child("cni", "name"), cni, SupportedCNIs))
	}
	podsPath := path.Child("pods", "cidrBlocks")
	svcPath := path.Child("services", "cidrBlocks")
	if len(pods) == 0 {
		errs = append(errs, field.Required(podsPath, "at least one pod CIDR block"))
	}
	if len(services) == 0 {
		errs = append(errs, field.Required(svcPath, "at least one service CIDR block"))
	}
	podNets, perrs := ParseCIDRs(podsPath, pods)
	svcNets, serrs := ParseCIDRs(svcPath, services)
	errs = append(append(errs, perrs...), serrs...)
	if len(perrs)+len(serrs) > 0 {
		return errs // indexes of parsed prefixes no longer match the lists
	}
	for i, s := range svcNets {
		for j, p := range podNets {
			if s.Overlaps(p) {
				errs = append(errs, field.Invalid(svcPath.Index(i), services[i],
					fmt.Sprintf("overlaps the pod range %s (%s)", pods[j], podsPath.Index(j))))
			}
		}
	}
	errs = append(errs, notOverlapping(podsPath, pods, podNets, supervisor)...)
	return append(errs, notOverlapping(svcPath, services, svcNets, supervisor)...)
}

func notOverlapping(path *field.Path, raw []string, nets []netip.Prefix, supervisor []Network) field.ErrorList {
	var errs field.ErrorList
	for i, p := range nets {
		r := iprange.Range{First: p.Addr(), Last: iprange.LastOf(p)}
		for _, s := range supervisor {
			if !(r.Last.Less(s.First) || s.Last.Less(r.First)) {
				errs = append(errs, field.Invalid(path.Index(i), raw[i],
					fmt.Sprintf("overlaps the supervisor's %s (%s-%s)", s.Name, s.First, s.Last)))
			}
		}
	}
	return errs
}
