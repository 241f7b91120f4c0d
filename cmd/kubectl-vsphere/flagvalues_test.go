package main

import (
	"testing"
	"time"
)

func TestParseServerAddress(t *testing.T) {
	cases := []struct {
		in, host, base string
	}{
		{"10.10.70.11", "10.10.70.11", "https://10.10.70.11"},
		{"10.10.70.11:8443", "10.10.70.11", "https://10.10.70.11:8443"},
		{"https://sv.lab.local", "sv.lab.local", "https://sv.lab.local"},
		{"https://sv.lab.local:443/", "sv.lab.local", "https://sv.lab.local:443"},
		{" sv.lab.local ", "sv.lab.local", "https://sv.lab.local"},
		{"fd00::11", "fd00::11", "https://[fd00::11]"},
		{"[fd00::11]:8443", "fd00::11", "https://[fd00::11]:8443"},
	}
	for _, tc := range cases {
		ep, err := parseServerAddress(tc.in)
		if err != nil {
			t.Errorf("parseServerAddress(%q): %v", tc.in, err)
			continue
		}
		if ep.Host != tc.host || ep.BaseURL.String() != tc.base {
			t.Errorf("parseServerAddress(%q) = %q, %q; want %q, %q", tc.in, ep.Host, ep.BaseURL, tc.host, tc.base)
		}
	}
	for _, bad := range []string{"", "http://10.10.70.11", "https://", "10.10.70.11:99999", "https://sv:port"} {
		if _, err := parseServerAddress(bad); err == nil {
			t.Errorf("parseServerAddress(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseRequestTimeout(t *testing.T) {
	cases := map[string]time.Duration{"": 0, "0": 0, "30": 30 * time.Second, "1m": time.Minute, "250ms": 250 * time.Millisecond}
	for in, want := range cases {
		got, err := parseRequestTimeout(in)
		if err != nil || got != want {
			t.Errorf("parseRequestTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "-5s", "soon"} {
		if _, err := parseRequestTimeout(bad); err == nil {
			t.Errorf("parseRequestTimeout(%q) succeeded, want an error", bad)
		}
	}
}
