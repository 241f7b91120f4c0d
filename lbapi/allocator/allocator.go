package allocator

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/open-supervisor/supervisor/internal/iprange"
)

var (
	// ErrExhausted means every VIP is in use.
	ErrExhausted = errors.New("no free VIP in the load balancer's ranges")
	// ErrOutOfRange means a requested VIP is not in any range.
	ErrOutOfRange = errors.New("the requested VIP is not in the load balancer's ranges")
	// ErrTaken means a requested VIP belongs to another Service.
	ErrTaken = errors.New("the requested VIP is already in use")
)

// Allocator maps Services (by key, e.g. "VirtualMachineService/ns/name") to VIPs.
type Allocator struct {
	ranges []iprange.Range
	byKey  map[string]netip.Addr // service key -> VIP
	byVIP  map[netip.Addr]string // VIP -> service key
	size   int
}

// New returns an allocator over ranges; the slice is not modified.
func New(ranges []iprange.Range) *Allocator {
	a := &Allocator{
		ranges: append([]iprange.Range(nil), ranges...),
		byKey:  map[string]netip.Addr{},
		byVIP:  map[netip.Addr]string{},
	}
	for _, r := range ranges {
		a.size += r.Size()
	}
	return a
}

// Assign gives key the VIP it asks for (spec.loadBalancerIP, the
// loadBalancerIPs annotation, or the VIP in its status after a restart).
// Assigning a key the VIP it has is a no-op; a key holding another VIP
// moves to the asked one.
func (a *Allocator) Assign(key string, vip netip.Addr) error {
	if !a.contains(vip) {
		return fmt.Errorf("%s: %w", vip, ErrOutOfRange)
	}
	if owner, ok := a.byVIP[vip]; ok && owner != key {
		return fmt.Errorf("%s is held by %s: %w", vip, owner, ErrTaken)
	}
	a.Unassign(key)
	a.byKey[key] = vip
	a.byVIP[vip] = key
	return nil
}

// Allocate returns key's VIP, giving it the lowest free one the first time.
func (a *Allocator) Allocate(key string) (netip.Addr, error) {
	if vip, ok := a.byKey[key]; ok {
		return vip, nil
	}
	vip, ok := iprange.FirstFree(a.ranges, func(x netip.Addr) bool { _, used := a.byVIP[x]; return used })
	if !ok {
		return netip.Addr{}, ErrExhausted
	}
	a.byKey[key] = vip
	a.byVIP[vip] = key
	return vip, nil
}

// Unassign releases key's VIP, if it has one.
func (a *Allocator) Unassign(key string) {
	if vip, ok := a.byKey[key]; ok {
		delete(a.byVIP, vip)
		delete(a.byKey, key)
	}
}

// VIP returns key's VIP.
func (a *Allocator) VIP(key string) (netip.Addr, bool) {
	vip, ok := a.byKey[key]
	return vip, ok
}

// InUse and Free count VIPs.
func (a *Allocator) InUse() int { return len(a.byKey) }

// Free is the number of VIPs not in use.
func (a *Allocator) Free() int { return a.size - len(a.byKey) }

func (a *Allocator) contains(vip netip.Addr) bool {
	for _, r := range a.ranges {
		if r.Contains(vip) {
			return true
		}
	}
	return false
}
