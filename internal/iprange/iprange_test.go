package iprange

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in          string
		first, last string
		size        int
		err         string
	}{
		{in: "10.0.0.10-10.0.0.20", first: "10.0.0.10", last: "10.0.0.20", size: 11},
		{in: " 10.0.0.10 - 10.0.0.10 ", first: "10.0.0.10", last: "10.0.0.10", size: 1},
		{in: "10.0.0.0/24", first: "10.0.0.1", last: "10.0.0.254", size: 254},
		{in: "10.0.0.77/24", first: "10.0.0.1", last: "10.0.0.254", size: 254}, // host bits are masked
		{in: "10.0.0.4/31", first: "10.0.0.4", last: "10.0.0.5", size: 2},
		{in: "10.0.0.9/32", first: "10.0.0.9", last: "10.0.0.9", size: 1},
		{in: "10.0.0.20-10.0.0.10", err: "end is before start"},
		{in: "10.0.0.1-fe80::1", err: "end is not an IPv4 address"},
		{in: "fe80::/64", err: "neither an IPv4 CIDR"},
		{in: "banana", err: "neither an IPv4 CIDR"},
	}
	for _, tc := range cases {
		r, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: want error containing %q, got %v", tc.in, tc.err, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if r.First.String() != tc.first || r.Last.String() != tc.last || r.Size() != tc.size {
			t.Errorf("%q: got %s-%s (%d), want %s-%s (%d)", tc.in, r.First, r.Last, r.Size(), tc.first, tc.last, tc.size)
		}
	}
}

func TestParseAllRejectsOverlap(t *testing.T) {
	if _, err := ParseAll([]string{"10.0.0.0/24", "10.0.0.200-10.0.1.5"}); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("want an overlap error, got %v", err)
	}
	if _, err := ParseAll([]string{"10.0.0.1-10.0.0.9", "10.0.0.10-10.0.0.20"}); err != nil {
		t.Fatalf("adjacent ranges must be accepted: %v", err)
	}
}

// Allocation steps on one set of ranges, in order, as a restart would see them.
func TestFirstFree(t *testing.T) {
	ranges, err := ParseAll([]string{"10.0.0.1-10.0.0.2", "10.0.1.7-10.0.1.7"})
	if err != nil {
		t.Fatal(err)
	}
	taken := map[netip.Addr]bool{}
	isTaken := func(a netip.Addr) bool { return taken[a] }
	steps := []struct {
		name string
		take bool // take the answer before the next step
		free string
		want string
	}{
		{name: "lowest first", take: true, want: "10.0.0.1"},
		{name: "next", take: true, want: "10.0.0.2"},
		{name: "second range", take: true, want: "10.0.1.7"},
		{name: "exhausted", want: ""},
		{name: "a released address comes back", free: "10.0.0.2", want: "10.0.0.2"},
	}
	for _, s := range steps {
		if s.free != "" {
			delete(taken, netip.MustParseAddr(s.free))
		}
		got, ok := FirstFree(ranges, isTaken)
		if s.want == "" {
			if ok {
				t.Fatalf("%s: want no address, got %s", s.name, got)
			}
			continue
		}
		if !ok || got.String() != s.want {
			t.Fatalf("%s: want %s, got %s (%v)", s.name, s.want, got, ok)
		}
		if s.take {
			taken[got] = true
		}
	}
	if ranges[0].First.String() != "10.0.0.1" {
		t.Fatal("FirstFree must not change the ranges")
	}
}

func TestFromCount(t *testing.T) {
	for _, tc := range []struct {
		first string
		count int
		want  string
		bad   bool
	}{
		{"10.0.0.10", 1, "10.0.0.10-10.0.0.10", false},
		{"10.0.0.250", 10, "10.0.0.250-10.0.1.3", false},
		{"255.255.255.250", 6, "255.255.255.250-255.255.255.255", false},
		{"255.255.255.250", 7, "", true},
		{"10.0.0.1", 0, "", true},
		{"::1", 1, "", true},
	} {
		r, err := FromCount(netip.MustParseAddr(tc.first), tc.count)
		if (err != nil) != tc.bad || (err == nil && r.String() != tc.want) {
			t.Errorf("FromCount(%s, %d) = %v, %v; want %q (error %v)", tc.first, tc.count, r, err, tc.want, tc.bad)
		}
	}
}

func TestMaskBits(t *testing.T) {
	for mask, want := range map[string]int{"255.255.255.0": 24, "255.0.0.0": 8, "255.255.255.255": 32, "255.255.0.255": -1, "0.0.0.0": -1, "nope": -1} {
		got, err := MaskBits(mask)
		if (err != nil) != (want < 0) || (err == nil && got != want) {
			t.Errorf("MaskBits(%q) = %d, %v; want %d", mask, got, err, want)
		}
	}
}
