package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
)

// Confirming a commit. HAProxy 2.6 reloaded by a signal cannot tell the
// Data Plane API that it refused a configuration (a VIP:port another
// process holds): the reload is reported succeeded, the previous process
// keeps running the previous configuration, and a TCP connect to the new
// VIP is answered by whoever holds it. What HAProxy really runs is what
// its running process reports: stats/native lists its frontends, backends
// and servers. A commit is live once
//
//   - the running process shows the commit's marker (markerName): it
//     loaded this commit's configuration, which HAProxy loads whole, binds
//     included (the marker names the latest commit only, so an earlier
//     configuration, or one from before the appliance's version was reset,
//     never passes for it); and
//   - each committed proxy runs: its frontend and backend are listed, with
//     exactly the committed servers at their addresses.
//
// A commit the running process does not show within ConfirmTimeout of its
// reload being reported done failed to load. A commit that a newer one
// superseded before it was confirmed is confirmed the same way, by its own
// marker, while the newer one waits for its reload (confirmEarlier).

// markerPrefix names the commit markers: empty backends lb__commit_<N>,
// where N is the configuration version the commit made. ProxyName never
// yields it (a kind is never empty).
const markerPrefix = Prefix + "_commit_"

func markerName(version int64) string { return markerPrefix + strconv.FormatInt(version, 10) }

// IsCommitMarker says whether name is one of the applier's commit markers
// (backends it owns without a Service behind them).
func IsCommitMarker(name string) bool {
	_, ok := markerVersion(name)
	return ok
}

func markerVersion(name string) (int64, bool) {
	rest, ok := strings.CutPrefix(name, markerPrefix)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(rest, 10, 64)
	return v, err == nil
}

// runningProcess is what the running HAProxy process reports.
type runningProcess struct {
	frontends, backends map[string]bool
	// servers: backend -> server name -> address as stats show it ("ip:port").
	servers map[string]map[string]string
	// markers are the commit markers it runs.
	markers map[int64]bool
}

// running reads the running process from stats/native; nil when the API
// has no stats endpoint (the reload status is then all there is).
func (a *Applier) running(ctx context.Context) (*runningProcess, error) {
	st, err := a.Client.Stats(ctx)
	if errors.Is(err, dataplane.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the running HAProxy process's stats: %w", err)
	}
	return parseRunning(st), nil
}

func parseRunning(st *models.NativeStats) *runningProcess {
	r := &runningProcess{frontends: map[string]bool{}, backends: map[string]bool{}, servers: map[string]map[string]string{}, markers: map[int64]bool{}}
	for _, s := range st.Stats {
		if s == nil {
			continue
		}
		switch s.Type {
		case "frontend":
			r.frontends[s.Name] = true
		case "backend":
			r.backends[s.Name] = true
			if v, ok := markerVersion(s.Name); ok {
				r.markers[v] = true
			}
		case "server":
			if r.servers[s.BackendName] == nil {
				r.servers[s.BackendName] = map[string]string{}
			}
			addr := ""
			if s.Stats != nil {
				addr = s.Stats.Addr
			}
			r.servers[s.BackendName][s.Name] = addr
		}
	}
	return r
}

// serves says whether the running process runs p: its frontend and its
// backend with exactly p's servers at p's addresses.
func (r *runningProcess) serves(p Proxy) bool {
	if !r.frontends[p.Name] || !r.backends[p.Name] || len(r.servers[p.Name]) != len(p.Servers) {
		return false
	}
	for _, s := range p.Servers {
		addr, ok := r.servers[p.Name][s.Name]
		if !ok || !sameAddress(addr, s) {
			return false
		}
	}
	return true
}

// sameAddress compares a stats address ("ip:port", or "ip" without a
// port) with a server's.
func sameAddress(stat string, s Server) bool {
	if ap, err := netip.ParseAddrPort(stat); err == nil {
		return ap.Addr().Unmap() == s.Address.Unmap() && int32(ap.Port()) == s.Port
	}
	host := strings.TrimSuffix(stat, ":0")
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return ip.Unmap() == s.Address.Unmap() && s.Port == 0
	}
	return false
}

// notLive returns nil when the running process runs the commit marked
// marker (0: no marker to look for) and every proxy of desired, else an
// ErrInvalid naming what does not run. An API without stats endpoints is
// trusted (nil).
func (a *Applier) notLive(ctx context.Context, marker int64, desired map[string]Proxy) error {
	if len(desired) == 0 {
		return nil // only removals, which no reload fails to apply
	}
	r, err := a.running(ctx)
	if err != nil {
		return err
	}
	if r == nil {
		commitConfirmationsTotal.WithLabelValues("unavailable").Inc()
		return nil
	}
	var missing []string
	for name, p := range desired {
		if !r.serves(p) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 && (marker == 0 || r.markers[marker]) {
		commitConfirmationsTotal.WithLabelValues("live").Inc()
		return nil
	}
	sort.Strings(missing)
	const shown = 5
	what := strings.Join(missing, ", ")
	if len(missing) > shown {
		what = fmt.Sprintf("%s and %d more", strings.Join(missing[:shown], ", "), len(missing)-shown)
	}
	if len(missing) == 0 {
		what = "its configuration (commit marker " + markerName(marker) + ")"
	}
	return fmt.Errorf("%w: HAProxy's running process does not run %s: it did not load the configuration committed for it (its reload was not reported failed)", dataplane.ErrInvalid, what)
}

// earlierCommit is a commit a later one superseded before it was
// confirmed: the marker the running process shows once it runs it, and
// what it asked for.
type earlierCommit struct {
	marker  int64
	desired map[string]Proxy
}

// supersede remembers p's commit, about to be replaced by a newer one, as
// an earlier commit, when the running process can show it (it has a
// marker).
func (p *pendingReload) supersede() {
	if p.marker != 0 {
		p.earlier = append(p.earlier, earlierCommit{marker: p.marker, desired: p.desired})
	}
}

// confirmEarlier confirms the latest earlier commit of p that the running
// process runs (its marker and its proxies), and forgets it and those
// before it: a commit reloaded while a newer one waits for the next
// reload serves its VIPs now rather than with the newer one. What it asked
// for is then what serves, the base a failure of the newer commits is
// settled from. Only the latest commit can fail the pending state; an
// earlier one not shown yet waits, as the newer one vouches for it once it
// runs.
func (a *Applier) confirmEarlier(ctx context.Context, p *pendingReload) error {
	if len(p.earlier) == 0 {
		return nil
	}
	r, err := a.running(ctx)
	if err != nil || r == nil {
		return err // without stats, the latest commit's reload says it all
	}
	for i := len(p.earlier) - 1; i >= 0; i-- {
		e := p.earlier[i]
		if !r.markers[e.marker] || !r.servesAll(e.desired) {
			continue
		}
		commitConfirmationsTotal.WithLabelValues("live").Inc()
		a.confirmed, p.base = copyProxies(e.desired), copyProxies(e.desired)
		p.earlier = p.earlier[i+1:]
		return nil
	}
	return nil
}

// servesAll says whether the running process runs every proxy of desired.
func (r *runningProcess) servesAll(desired map[string]Proxy) bool {
	for _, p := range desired {
		if !r.serves(p) {
			return false
		}
	}
	return true
}

// Confirm looks, without waiting, at the unconfirmed commit as the next
// Apply would: a commit the running process shows is confirmed (Loaded
// then says so for its proxies), and one whose reload failed or that did
// not show within ConfirmTimeout is settled (its proxies at fault are left
// out and reported by the next Apply). It says whether a commit still
// awaits confirmation. Callers poll it off the sync, so that the sync
// learns of a confirmed commit as soon as HAProxy runs it.
func (a *Applier) Confirm(ctx context.Context) (pending bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	err = a.checkPending(ctx)
	return a.pending != nil, err
}

// waitLive waits up to ConfirmTimeout for the running process to run the
// commit; it stops at the first look when the commit runs.
func (a *Applier) waitLive(ctx context.Context, marker int64, desired map[string]Proxy) error {
	deadline := time.Now().Add(a.confirmTimeout())
	for {
		err := a.notLive(ctx, marker, desired)
		if err == nil || !errors.Is(err, dataplane.ErrInvalid) {
			return err
		}
		if time.Now().After(deadline) {
			commitConfirmationsTotal.WithLabelValues("not_live").Inc()
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// heldError is a proxy whose VIP:port another process holds.
type heldError struct {
	addr    netip.AddrPort
	name    string
	failure error
}

func (e *heldError) Error() string {
	return fmt.Sprintf("VIP %s is held by another process: it accepts connections, but HAProxy's running process did not load frontend %s (%v)", e.addr, e.name, e.failure)
}

func (e *heldError) Unwrap() error { return e.failure }

// heldElsewhere finds, among the suspects of a failed batch, the proxies
// whose VIP:port is not bound by what HAProxy ran before (base) and yet
// accepts connections: another process holds it, so HAProxy cannot bind
// it. The checks run in parallel; an unreachable VIP costs one dial
// timeout.
func (a *Applier) heldElsewhere(ctx context.Context, base, desired map[string]Proxy, suspects []string, failure error) map[string]error {
	found := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, 16)
	for _, name := range suspects {
		p, ok := desired[name]
		if !ok || !p.VIP.IsValid() || p.Port <= 0 || p.Port > 65535 {
			continue
		}
		addr := netip.AddrPortFrom(p.VIP, uint16(p.Port))
		if boundBy(base, addr) {
			continue // HAProxy's running process may be the one answering
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if a.dial(ctx, addr.String()) == nil {
				mu.Lock()
				found[name] = &heldError{addr: addr, name: name, failure: failure}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return found
}

// boundBy says whether a proxy of proxies binds addr.
func boundBy(proxies map[string]Proxy, addr netip.AddrPort) bool {
	for _, p := range proxies {
		if p.VIP == addr.Addr() && p.Port == int32(addr.Port()) {
			return true
		}
	}
	return false
}

// dialTimeout bounds one connection attempt to a VIP.
const dialTimeout = 500 * time.Millisecond

func (a *Applier) dial(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if a.Dial != nil {
		return a.Dial(ctx, addr)
	}
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
