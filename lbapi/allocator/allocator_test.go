package allocator

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/open-supervisor/supervisor/internal/iprange"
)

// One allocator, an ordered table of steps, as MetalLB tests its own.
func TestAllocatorSteps(t *testing.T) {
	ranges, err := iprange.ParseAll([]string{"127.30.0.1-127.30.0.3"})
	if err != nil {
		t.Fatal(err)
	}
	a := New(ranges)
	type step struct {
		name    string
		do      func() (netip.Addr, error)
		want    string
		wantErr error
	}
	vip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	steps := []step{
		{"s1 gets the lowest", func() (netip.Addr, error) { return a.Allocate("s1") }, "127.30.0.1", nil},
		{"s1 again is idempotent", func() (netip.Addr, error) { return a.Allocate("s1") }, "127.30.0.1", nil},
		{"s2 asks for .3", func() (netip.Addr, error) { return vip("127.30.0.3"), a.Assign("s2", vip("127.30.0.3")) }, "127.30.0.3", nil},
		{"s3 cannot take s1's VIP", func() (netip.Addr, error) { return netip.Addr{}, a.Assign("s3", vip("127.30.0.1")) }, "", ErrTaken},
		{"s3 cannot ask outside the ranges", func() (netip.Addr, error) { return netip.Addr{}, a.Assign("s3", vip("127.31.0.1")) }, "", ErrOutOfRange},
		{"s3 gets the one left", func() (netip.Addr, error) { return a.Allocate("s3") }, "127.30.0.2", nil},
		{"s4 finds none", func() (netip.Addr, error) { return a.Allocate("s4") }, "", ErrExhausted},
		{"s1 released, s4 reuses it", func() (netip.Addr, error) { a.Unassign("s1"); return a.Allocate("s4") }, "127.30.0.1", nil},
	}
	for _, s := range steps {
		got, err := s.do()
		if s.wantErr != nil {
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: want %v, got %v", s.name, s.wantErr, err)
			}
			continue
		}
		if err != nil || got.String() != s.want {
			t.Fatalf("%s: want %s, got %s (%v)", s.name, s.want, got, err)
		}
	}
	if a.InUse() != 3 || a.Free() != 0 {
		t.Fatalf("in use %d, free %d", a.InUse(), a.Free())
	}
	if ranges[0].First.String() != "127.30.0.1" || ranges[0].Last.String() != "127.30.0.3" {
		t.Fatal("the allocator must not modify its input ranges")
	}
}

// A restarted controller re-assigns every VIP from status first; a new
// Service then gets a VIP nobody holds.
func TestRebuildBeforeAllocate(t *testing.T) {
	ranges, _ := iprange.ParseAll([]string{"127.30.0.1-127.30.0.9"})
	a := New(ranges)
	for key, v := range map[string]string{"old-a": "127.30.0.1", "old-b": "127.30.0.2", "old-c": "127.30.0.4"} {
		if err := a.Assign(key, netip.MustParseAddr(v)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Allocate("new")
	if err != nil || got.String() != "127.30.0.3" {
		t.Fatalf("want the lowest VIP nobody holds (127.30.0.3), got %s %v", got, err)
	}
	if v, _ := a.VIP("old-c"); v.String() != "127.30.0.4" {
		t.Fatalf("a rebuilt VIP moved: %s", v)
	}
}
