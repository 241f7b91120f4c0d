package iprange

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Range is an inclusive range of IPv4 addresses.
type Range struct {
	First, Last netip.Addr
}

// Parse parses a CIDR ("10.0.0.0/24": every address but the network and
// broadcast addresses, for prefixes shorter than /31) or an inclusive range
// ("10.0.0.10-10.0.0.20").
func Parse(s string) (Range, error) {
	s = strings.TrimSpace(s)
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(strings.TrimSpace(first))
		if err != nil || !a.Is4() {
			return Range{}, fmt.Errorf("range %q: start is not an IPv4 address", s)
		}
		b, err := netip.ParseAddr(strings.TrimSpace(last))
		if err != nil || !b.Is4() {
			return Range{}, fmt.Errorf("range %q: end is not an IPv4 address", s)
		}
		if b.Less(a) {
			return Range{}, fmt.Errorf("range %q: end is before start", s)
		}
		return Range{First: a, Last: b}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return Range{}, fmt.Errorf("range %q: neither an IPv4 CIDR nor a start-end range", s)
	}
	p = p.Masked()
	first := p.Addr()
	last := lastAddr(p)
	if p.Bits() < 31 {
		first, last = first.Next(), last.Prev()
	}
	return Range{First: first, Last: last}, nil
}

// ParseAll parses every range and rejects overlaps.
func ParseAll(specs []string) ([]Range, error) {
	out := make([]Range, 0, len(specs))
	for i, s := range specs {
		r, err := Parse(s)
		if err != nil {
			return nil, err
		}
		for j, o := range out {
			if !(r.Last.Less(o.First) || o.Last.Less(r.First)) {
				return nil, fmt.Errorf("range %q overlaps range %q", specs[i], specs[j])
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Size is the number of addresses in the range.
func (r Range) Size() int {
	a, b := r.First.As4(), r.Last.As4()
	return int(be32(b)-be32(a)) + 1
}

// Contains says whether the range holds addr.
func (r Range) Contains(addr netip.Addr) bool {
	return !addr.Less(r.First) && !r.Last.Less(addr)
}

// FirstFree returns the lowest address of the ranges, in order, for which
// taken is false and that is not excluded.
func FirstFree(ranges []Range, taken func(netip.Addr) bool) (netip.Addr, bool) {
	for _, r := range ranges {
		for a := r.First; a.IsValid() && !r.Last.Less(a); a = a.Next() {
			if !taken(a) {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := be32(a) | (1<<(32-p.Bits()) - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func be32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

// LastOf returns the last address of a prefix.
func LastOf(p netip.Prefix) netip.Addr { return lastAddr(p.Masked()) }

// FromCount is the range of count addresses starting at first, as the
// Workload Management API gives ranges ({address, count}).
func FromCount(first netip.Addr, count int) (Range, error) {
	if !first.Is4() {
		return Range{}, fmt.Errorf("%s is not an IPv4 address", first)
	}
	if count < 1 {
		return Range{}, fmt.Errorf("a range holds at least one address, not %d", count)
	}
	end := uint64(be32(first.As4())) + uint64(count) - 1
	if end > 0xffffffff {
		return Range{}, fmt.Errorf("%d addresses from %s run past the IPv4 space", count, first)
	}
	v := uint32(end)
	return Range{First: first, Last: netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})}, nil
}

// String is the inclusive "first-last" form Parse reads.
func (r Range) String() string { return r.First.String() + "-" + r.Last.String() }

// MaskBits is the prefix length of a dotted IPv4 subnet mask
// ("255.255.255.0" → 24); a mask whose ones are not contiguous, or that
// has none, is an error.
func MaskBits(mask string) (int, error) {
	a, err := netip.ParseAddr(mask)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("%q is not an IPv4 subnet mask", mask)
	}
	b := a.As4()
	ones, bits := net.IPMask(b[:]).Size()
	if bits == 0 || ones == 0 {
		return 0, fmt.Errorf("%q is not a contiguous subnet mask", mask)
	}
	return ones, nil
}
