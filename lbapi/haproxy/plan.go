package haproxy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Prefix marks the frontends and backends lbapi owns.
const Prefix = "lb_"

// maxName keeps names short enough for HAProxy's stats and logs.
const maxName = 63

// Server is one backend server: a ready endpoint.
type Server struct {
	Name    string
	Address netip.Addr
	Port    int32
	// Check asks HAProxy to health-check the server. VMs have no readiness
	// of their own, so their servers are checked; EndpointSlice endpoints
	// carry the kubelet's readiness already, as kube-proxy trusts it.
	Check bool
}

// Proxy is one VIP:port: a frontend binding it and a backend of the same name.
type Proxy struct {
	Name    string
	VIP     netip.Addr
	Port    int32
	Servers []Server // sorted by name
	// HealthCheckTLS asks for an HTTPS check on /readyz (kube-apiservers).
	HealthCheckTLS bool
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9-_.:]`)

// ProxyName is the deterministic name of a Service port's proxy: readable
// for short names, and cut with a hash of the whole when long, so two long
// names never collide.
func ProxyName(kind, namespace, name string, port int32) string {
	full := fmt.Sprintf("%s%s_%s_%s_%d", Prefix, strings.ToLower(kind), namespace, name, port)
	full = unsafeChars.ReplaceAllString(full, "-")
	if len(full) <= maxName {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	suffix := fmt.Sprintf("_%d_%s", port, hex.EncodeToString(sum[:6]))
	return full[:maxName-len(suffix)] + suffix
}

// Sorted returns copies of the proxies ordered by name, each with its
// servers ordered by name (deterministic transactions). The caller's map
// and the proxies' Servers slices are left as they are.
func Sorted(proxies map[string]Proxy) []Proxy {
	out := make([]Proxy, 0, len(proxies))
	for _, p := range proxies {
		p.Servers = slices.Clone(p.Servers)
		slices.SortFunc(p.Servers, func(a, b Server) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Proxy) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Changes is what a transaction must do.
type Changes struct {
	// Create are proxies HAProxy lacks: backend, servers, frontend, bind.
	Create []Proxy
	// Delete are owned proxies no Service needs (frontend and backend names).
	Delete []string
	// Rebind are proxies whose VIP or port changed (bind replaced).
	Rebind []Proxy
	// AddServers and DelServers adjust existing backends.
	AddServers map[string][]Server
	DelServers map[string][]string
}

// Empty says whether there is nothing to do.
func (c Changes) Empty() bool {
	return len(c.Create) == 0 && len(c.Delete) == 0 && len(c.Rebind) == 0 && len(c.AddServers) == 0 && len(c.DelServers) == 0
}

// Plan diffs desired against current (both keyed by proxy name; current
// holds only owned proxies). It is pure: neither map nor any Servers slice
// in them is changed, and the result shares no slice with them.
func Plan(current, desired map[string]Proxy) Changes {
	ch := Changes{AddServers: map[string][]Server{}, DelServers: map[string][]string{}}
	for _, want := range Sorted(desired) {
		have, ok := current[want.Name]
		if !ok {
			ch.Create = append(ch.Create, want)
			continue
		}
		if have.HealthCheckTLS != want.HealthCheckTLS {
			// A backend's check is set when it is created: replace it.
			ch.Delete = append(ch.Delete, want.Name)
			ch.Create = append(ch.Create, want)
			continue
		}
		if have.VIP != want.VIP || have.Port != want.Port {
			ch.Rebind = append(ch.Rebind, want)
		}
		haveServers := map[string]Server{}
		for _, s := range have.Servers {
			haveServers[s.Name] = s
		}
		wantServers := map[string]bool{}
		for _, s := range want.Servers {
			wantServers[s.Name] = true
			if old, ok := haveServers[s.Name]; !ok || old != s {
				if ok {
					ch.DelServers[want.Name] = append(ch.DelServers[want.Name], s.Name)
				}
				ch.AddServers[want.Name] = append(ch.AddServers[want.Name], s)
			}
		}
		for _, s := range have.Servers {
			if !wantServers[s.Name] {
				ch.DelServers[want.Name] = append(ch.DelServers[want.Name], s.Name)
			}
		}
	}
	for name := range current {
		if _, ok := desired[name]; !ok {
			ch.Delete = append(ch.Delete, name)
		}
	}
	sort.Strings(ch.Delete)
	for k, v := range ch.DelServers {
		sort.Strings(v)
		ch.DelServers[k] = v
	}
	return ch
}
