package supervisor

import (
	"fmt"
	"net/netip"

	discoveryv1 "k8s.io/api/discovery/v1"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// RangeOf turns an {address, count} range of the enable spec into the
// inclusive "first-last" form WorkloadNetworks take.
func RangeOf(r vspherev1.AddressRange) (string, error) {
	first, err := netip.ParseAddr(r.Address)
	if err != nil || !first.Is4() {
		return "", fmt.Errorf("address %q is not an IPv4 address", r.Address)
	}
	rg, err := iprange.FromCount(first, int(r.Count))
	if err != nil {
		return "", err
	}
	return rg.String(), nil
}

// PrefixLength is the length of an IPv4 subnet mask ("255.255.255.0" →
// 24); a mask whose ones are not contiguous is an error.
func PrefixLength(mask string) (int32, error) {
	bits, err := iprange.MaskBits(mask)
	if err != nil {
		return 0, fmt.Errorf("subnet mask %w", err)
	}
	return int32(bits), nil
}

// FirstVIP is the first address of the load balancer's first range: the
// supervisor's endpoint.
func FirstVIP(ranges []vspherev1.AddressRange) (netip.Addr, error) {
	if len(ranges) == 0 {
		return netip.Addr{}, fmt.Errorf("no VIP range")
	}
	a, err := netip.ParseAddr(ranges[0].Address)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("address %q is not an IPv4 address", ranges[0].Address)
	}
	return a, nil
}

// endpointAddress is how an EndpointSlice names the API server at ip.
// Kubernetes refuses loopback, link-local and unspecified addresses in
// IPv4 and IPv6 slices; the embedded stack's API server listens on
// loopback (all its traffic stays on 127.0.0.0/8), so such an IPv4 address
// goes into an FQDN slice, whose addresses Kubernetes checks only as
// names. lbapi reads the address as an IP whatever the slice's type.
func endpointAddress(ip netip.Addr) (discoveryv1.AddressType, error) {
	ip = ip.Unmap()
	special := ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified()
	switch {
	case ip.Is4() && special:
		return discoveryv1.AddressTypeFQDN, nil
	case ip.Is4():
		return discoveryv1.AddressTypeIPv4, nil
	case special:
		return "", fmt.Errorf("%s cannot be an endpoint: Kubernetes refuses it and it is not IPv4", ip)
	}
	return discoveryv1.AddressTypeIPv6, nil
}
