package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// supervisorEndpoint is where a Supervisor's login service answers.
type supervisorEndpoint struct {
	// Host is the Supervisor's IP address or DNS name as the user gave it,
	// without port: the name of its kubeconfig cluster and context.
	Host string
	// BaseURL is https://host[:port] of the /wcp endpoints (port 443 unless
	// the user gave another).
	BaseURL *url.URL
}

// parseServerAddress reads --server: a host, host:port or https URL.
func parseServerAddress(server string) (supervisorEndpoint, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return supervisorEndpoint{}, errors.New("the --server flag is required: the address of the Supervisor")
	}
	// A bare IPv6 address has colons that are not a port separator.
	if ip := net.ParseIP(s); ip != nil && strings.Contains(s, ":") {
		s = "[" + s + "]"
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return supervisorEndpoint{}, fmt.Errorf("invalid --server %q: %w", server, err)
	}
	if u.Scheme != "https" {
		return supervisorEndpoint{}, fmt.Errorf("invalid --server %q: the login service is only served over https", server)
	}
	if u.Hostname() == "" {
		return supervisorEndpoint{}, fmt.Errorf("invalid --server %q: no host", server)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return supervisorEndpoint{}, fmt.Errorf("invalid --server %q: bad port %q", server, p)
		}
	}
	return supervisorEndpoint{
		Host:    u.Hostname(),
		BaseURL: &url.URL{Scheme: "https", Host: u.Host},
	}, nil
}

// parseRequestTimeout reads --request-timeout as kubectl does: a duration
// such as 30s or 1m, or a whole number of seconds; empty or 0 means none.
func parseRequestTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if secs, err := strconv.Atoi(s); err == nil {
		if secs < 0 {
			return 0, fmt.Errorf("invalid --request-timeout %q: it must not be negative", s)
		}
		return time.Duration(secs) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid --request-timeout %q: want a duration such as 30s or 1m, or a whole number of seconds", s)
	}
	return d, nil
}
