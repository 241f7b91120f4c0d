package v1alpha1

import (
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/open-supervisor/supervisor/internal/iprange"
)

// Ranges turns the address ranges into iprange ranges; CIDRs keep every
// address (VIPs need no network or broadcast address).
func (s *LoadBalancerSpec) Ranges() ([]iprange.Range, field.ErrorList) {
	var errs field.ErrorList
	var out []iprange.Range
	base := field.NewPath("spec", "addressRanges")
	for i, ar := range s.AddressRanges {
		p := base.Index(i)
		var r iprange.Range
		switch {
		case ar.CIDR != "" && (ar.Address != "" || ar.Count != 0):
			errs = append(errs, field.Invalid(p, ar, "set either cidr or address and count, not both"))
			continue
		case ar.CIDR != "":
			prefix, err := netip.ParsePrefix(ar.CIDR)
			if err != nil || !prefix.Addr().Is4() {
				errs = append(errs, field.Invalid(p.Child("cidr"), ar.CIDR, "not an IPv4 CIDR"))
				continue
			}
			prefix = prefix.Masked()
			r = iprange.Range{First: prefix.Addr(), Last: iprange.LastOf(prefix)}
		default:
			first, err := netip.ParseAddr(ar.Address)
			if err != nil || !first.Is4() {
				errs = append(errs, field.Invalid(p.Child("address"), ar.Address, "not an IPv4 address"))
				continue
			}
			if ar.Count < 1 {
				errs = append(errs, field.Invalid(p.Child("count"), ar.Count, "must be at least 1"))
				continue
			}
			last := first
			for n := int32(1); n < ar.Count; n++ {
				last = last.Next()
				if !last.IsValid() || !last.Is4() {
					errs = append(errs, field.Invalid(p.Child("count"), ar.Count, "runs past 255.255.255.255"))
					break
				}
			}
			r = iprange.Range{First: first, Last: last}
		}
		for j, o := range out {
			if !(r.Last.Less(o.First) || o.Last.Less(r.First)) {
				errs = append(errs, field.Invalid(p, ar, fmt.Sprintf("overlaps spec.addressRanges[%d]", j)))
			}
		}
		out = append(out, r)
	}
	return out, errs
}

// Validate checks the spec and names each field at fault.
func (lb *LoadBalancer) Validate() field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if lb.Spec.Provider != ProviderHAProxy {
		errs = append(errs, field.NotSupported(spec.Child("provider"), lb.Spec.Provider, []string{ProviderHAProxy}))
	}
	hp := spec.Child("haProxy")
	if len(lb.Spec.HAProxy.Servers) == 0 {
		errs = append(errs, field.Required(hp.Child("servers"), "at least one Data Plane API server"))
	}
	for i, s := range lb.Spec.HAProxy.Servers {
		if s.Host == "" {
			errs = append(errs, field.Required(hp.Child("servers").Index(i).Child("host"), ""))
		}
		if s.Port < 1 || s.Port > 65535 {
			errs = append(errs, field.Invalid(hp.Child("servers").Index(i).Child("port"), s.Port, "must be 1-65535"))
		}
	}
	ref := lb.Spec.HAProxy.CredentialsSecretRef
	if ref.Name == "" {
		errs = append(errs, field.Required(hp.Child("credentialsSecretRef", "name"), "credentials are required"))
	}
	if ref.Namespace == "" {
		errs = append(errs, field.Required(hp.Child("credentialsSecretRef", "namespace"), "credentials are required"))
	}
	if len(lb.Spec.AddressRanges) == 0 {
		errs = append(errs, field.Required(spec.Child("addressRanges"), "at least one VIP range"))
	}
	_, rangeErrs := lb.Spec.Ranges()
	return append(errs, rangeErrs...)
}
