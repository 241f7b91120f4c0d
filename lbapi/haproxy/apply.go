package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/haproxytech/client-native/v6/models"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
)

// maxAttempts bounds retries after 409/406 (someone else wrote meanwhile).
const maxAttempts = 5

// Applier writes plans to one appliance. It remembers what HAProxy held
// after its own last commit, so a steady state costs one version read; any
// other version (a restart, another writer) makes it read HAProxy again.
//
// A commit's reload is not awaited: the next change must not wait a reload
// delay behind it. The next Apply looks at how that reload went and whether
// the RUNNING HAProxy process shows the commit (stats/native, see
// confirm.go): a reload's status alone proves nothing, as the real Data
// Plane API with a signal reload reports "succeeded" for a configuration
// HAProxy could not apply. When the reload failed, or the running process
// did not show the commit within ConfirmTimeout, the proxies at fault are
// isolated like a refused commit.
type Applier struct {
	// Client is the appliance's Data Plane API (a *dataplane.Client).
	Client dataplane.API
	// RetryRejected is how long a refused proxy is left out before it is
	// tried again unchanged; 30 s when zero. One refused because another
	// process holds its VIP:port is tried again only once that address
	// stops accepting connections.
	RetryRejected time.Duration
	// ConfirmTimeout is how long after its reload was reported done the
	// running process may take to show a commit before the commit counts as
	// failed; 10 s when zero.
	ConfirmTimeout time.Duration
	// Dial tells whether an address accepts TCP connections (to find a
	// VIP:port another process holds); a net.Dialer's when nil.
	Dial func(ctx context.Context, addr string) error
	// ReloadEvery, when non-zero, has the applier reload HAProxy itself
	// instead of leaving it to the appliance's reload delay (30 s on the
	// vSphere appliance): each commit reloads before it answers
	// (force_reload=true), and a change that comes within ReloadEvery of
	// the last commit waits out the rest of it (Result.RetryAfter) and goes
	// with whatever else came meanwhile. HAProxy still reloads at most once
	// per ReloadEvery for lbapi's changes, but a lone change is served in
	// a reload's time rather than in up to a reload delay. Zero leaves the
	// reloads to the appliance's schedule.
	ReloadEvery time.Duration

	mu           sync.Mutex
	known        map[string]Proxy
	knownVersion int64
	// knownMarkers are the commit markers HAProxy's file holds (see
	// markerName); valid with known.
	knownMarkers []string
	pending      *pendingReload
	refused      map[string]refusal
	// confirmed is what HAProxy is known to have loaded.
	confirmed map[string]Proxy
	// Transactions counts committed transactions (benchmarks read it).
	Transactions int
	// lastForced is when the last commit with an inline reload was asked
	// for (see ReloadEvery).
	lastForced time.Time
}

// pendingReload is committed configuration not yet confirmed live: base is
// what served before the first unconfirmed commit, desired what the last
// one asked for, id the reload that loads it all ("" when there is none to
// wait for), marker the commit marker the running process shows once it
// runs that commit (0: nothing to look for), reported when the reload was
// reported done (zero until then): the running process has ConfirmTimeout
// from then to show desired.
type pendingReload struct {
	id            string
	base, desired map[string]Proxy
	marker        int64
	reported      time.Time
	// earlier are the commits this one superseded before they were
	// confirmed, oldest first (see confirmEarlier).
	earlier []earlierCommit
}

// refusal is a proxy HAProxy refused, left out until it changes or until;
// held is its VIP:port when another process holds it (then it is left out
// for as long as that address accepts connections).
type refusal struct {
	proxy Proxy
	err   error
	until time.Time
	held  netip.AddrPort
}

// Result is what Apply did.
type Result struct {
	Changes Changes
	// Rejected are proxies HAProxy refused (by name, with its reason); the
	// rest of the batch was applied without them.
	Rejected map[string]error
	// RetryAfter is how long the changes wait before Apply commits them,
	// when they came within ReloadEvery of the last commit; zero when
	// they were committed.
	RetryAfter time.Duration
}

// Apply makes HAProxy serve exactly desired (for owned proxies) in one
// transaction. Proxies HAProxy refuses, at commit or when loading an
// earlier batch, are found by bisection and left out (and reported in
// Rejected), so one bad Service never holds back the others.
func (a *Applier) Apply(ctx context.Context, desired map[string]Proxy) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := Result{Rejected: map[string]error{}}
	if err := a.checkPending(ctx); err != nil {
		return res, err
	}
	// What serves now: the base to isolate from when HAProxy refuses.
	base, err := a.current(ctx)
	if err != nil {
		return res, err
	}
	// Refused proxies due for a retry are retried in a commit of their
	// own: should they fail again, no other change shares their reload.
	withoutRetries := a.withoutRefused(ctx, base, desired, res.Rejected, false)
	if Plan(base, withoutRetries).Empty() {
		res.Rejected = map[string]error{}
		desired = a.withoutRefused(ctx, base, desired, res.Rejected, true)
	} else {
		desired = withoutRetries
	}
	if wait := a.reloadWait(); wait > 0 && !Plan(base, desired).Empty() {
		res.RetryAfter = wait
		return res, nil
	}
	id, marker, ch, err := a.commit(ctx, desired)
	res.Changes = ch
	switch {
	case errors.Is(err, dataplane.ErrInvalid):
		err = a.settle(ctx, base, desired, err)
		if err == nil {
			// Settling confirmed that the running process runs all it
			// kept, the content of an earlier unconfirmed commit included.
			a.pending = nil
		}
		a.withoutRefused(ctx, base, desired, res.Rejected, false)
		return res, err
	case err != nil:
		return res, err
	case marker == 0 && a.pending == nil:
		// Nothing to commit: HAProxy's file holds desired already, which
		// its process may never have loaded (a restart of lbapi).
		return res, a.confirmUnconfirmed(ctx, desired)
	case marker == 0:
		return res, nil // the pending commit holds desired
	case a.pending == nil:
		a.pending = &pendingReload{base: base}
	}
	a.pending.supersede()
	a.pending.id, a.pending.desired, a.pending.marker, a.pending.reported = id, copyProxies(desired), marker, time.Time{}
	if id == "" {
		// Reloaded inline, or the API keeps no reload record to wait for.
		a.pending.reported = time.Now()
	}
	return res, nil
}

// Pending says whether a reload awaits confirmation by a later Apply.
func (a *Applier) Pending() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending != nil
}

// Loaded says whether HAProxy is known to run p as it is: its running
// process showed it after its commit (or, where the API has no stats
// endpoint, its reload succeeded).
func (a *Applier) Loaded(p Proxy) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.confirmed[p.Name]
	return ok && equalProxy(c, p)
}

// checkPending looks, without waiting, at the unconfirmed commit: first
// at its reload's status, then at whether the running process shows it.
// When the reload failed, or the process did not show the commit within
// ConfirmTimeout of its reload being reported done, the batch is isolated
// from what served before it.
func (a *Applier) checkPending(ctx context.Context) error {
	p := a.pending
	if p == nil {
		return nil
	}
	if err := a.confirmEarlier(ctx, p); err != nil {
		return err
	}
	if p.reported.IsZero() {
		failed, done, err := a.reloadStatus(ctx, p.id)
		if err != nil || !done {
			return err
		}
		if failed != nil {
			a.pending = nil
			a.known = nil // HAProxy's file holds the batch, its workers do not
			return a.settle(ctx, p.base, p.desired, failed)
		}
		p.reported = time.Now()
	}
	notLive := a.notLive(ctx, p.marker, p.desired)
	switch {
	case notLive != nil && !errors.Is(notLive, dataplane.ErrInvalid):
		return notLive // stats unreadable now: look again on the next sync
	case notLive == nil:
		a.pending = nil
		a.confirmed = p.desired
		return nil
	case time.Since(p.reported) < a.confirmTimeout():
		return nil
	}
	commitConfirmationsTotal.WithLabelValues("not_live").Inc()
	a.pending = nil
	a.known = nil
	return a.settle(ctx, p.base, p.desired, notLive)
}

// confirmUnconfirmed checks that the running process runs the proxies of
// desired not confirmed yet; those it does not run wait as a pending
// commit would.
func (a *Applier) confirmUnconfirmed(ctx context.Context, desired map[string]Proxy) error {
	unconfirmed := false
	for name, p := range desired {
		if c, ok := a.confirmed[name]; !ok || !equalProxy(c, p) {
			unconfirmed = true
			break
		}
	}
	if !unconfirmed {
		a.confirmed = copyProxies(desired) // drops what desired no longer holds
		return nil
	}
	running, err := a.running(ctx)
	if err != nil {
		return err
	}
	if running == nil {
		a.confirmed = copyProxies(desired) // no stats to confirm with
		return nil
	}
	base := map[string]Proxy{}
	for name, p := range desired {
		if running.serves(p) {
			base[name] = p
		}
	}
	if len(base) == len(desired) {
		a.confirmed = copyProxies(desired)
		return nil
	}
	a.confirmed = copyProxies(base)
	a.pending = &pendingReload{base: base, desired: copyProxies(desired), reported: time.Now()}
	return nil
}

func (a *Applier) confirmTimeout() time.Duration {
	if a.ConfirmTimeout == 0 {
		return 10 * time.Second
	}
	return a.ConfirmTimeout
}

// withoutRefused leaves out proxies refused recently and unchanged since,
// keeping what served before in their place, and reports them. One whose
// VIP:port another process held stays out while that address accepts
// connections: trying it again would only fail again, holding back the
// changes that share its reload. Those whose retry is due are left out too
// unless retryDue.
func (a *Applier) withoutRefused(ctx context.Context, base, desired map[string]Proxy, rejected map[string]error, retryDue bool) map[string]Proxy {
	out := copyProxies(desired)
	for name, r := range a.refused {
		want, ok := desired[name]
		// A proxy refused for its held VIP:port stays refused whatever
		// else of it changes (its servers follow its VMs) while it asks
		// for the same address.
		sameHeldBind := ok && r.held.IsValid() && want.VIP == r.held.Addr() && want.Port == int32(r.held.Port())
		if !ok || (!equalProxy(want, r.proxy) && !sameHeldBind) {
			delete(a.refused, name)
			continue
		}
		if sameHeldBind {
			r.proxy = want
			a.refused[name] = r
		}
		if time.Now().After(r.until) {
			switch {
			case r.held.IsValid() && !boundBy(base, r.held) && a.dial(ctx, r.held.String()) == nil:
				r.until = time.Now().Add(a.retryRejected()) // still held
				a.refused[name] = r
			case retryDue:
				delete(a.refused, name)
				continue
			}
		}
		rejected[name] = r.err
		if old, ok := base[name]; ok {
			out[name] = old
		} else {
			delete(out, name)
		}
	}
	return out
}

// settle isolates the proxies at fault in a batch that failed with
// failure, applies the rest on top of base and remembers the refusals.
func (a *Applier) settle(ctx context.Context, base, desired map[string]Proxy, failure error) error {
	var suspects []string
	for name := range desired {
		if !equalProxy(base[name], desired[name]) {
			suspects = append(suspects, name)
		}
	}
	for name := range base {
		if _, ok := desired[name]; !ok {
			suspects = append(suspects, name)
		}
	}
	sort.Strings(suspects)
	base = copyProxies(base)
	// A new VIP:port that accepts connections though HAProxy's running
	// process did not load its frontend is another process's: that proxy
	// is at fault, whatever the rest does.
	found := a.heldElsewhere(ctx, base, desired, suspects, failure)
	var rest []string
	for _, name := range suspects {
		if _, held := found[name]; !held {
			rest = append(rest, name)
		}
	}
	isolateRest := a.isolate
	if len(found) == 0 {
		isolateRest = func(ctx context.Context, base, desired map[string]Proxy, suspects []string, rejected map[string]error) error {
			return a.split(ctx, base, desired, suspects, failure, rejected) // known to fail together
		}
	}
	if err := isolateRest(ctx, base, desired, rest, found); err != nil {
		return err
	}
	// A failed reload leaves the refused configuration in HAProxy's file;
	// make sure it holds exactly what was accepted.
	if err := a.applyNow(ctx, base); err != nil {
		return err
	}
	a.confirmed = copyProxies(base)
	if a.refused == nil {
		a.refused = map[string]refusal{}
	}
	for name, err := range found {
		r := refusal{proxy: desired[name], err: err, until: time.Now().Add(a.retryRejected())}
		var held *heldError
		if errors.As(err, &held) {
			r.held = held.addr
		}
		a.refused[name] = r
	}
	return nil
}

func (a *Applier) retryRejected() time.Duration {
	if a.RetryRejected == 0 {
		return 30 * time.Second
	}
	return a.RetryRejected
}

// split isolates the suspects, known to fail together with failure: a lone
// suspect is rejected, else each half is tried on its own.
func (a *Applier) split(ctx context.Context, base, desired map[string]Proxy, suspects []string, failure error, rejected map[string]error) error {
	switch len(suspects) {
	case 0:
		return nil
	case 1:
		rejected[suspects[0]] = failure
		return nil
	}
	half := len(suspects) / 2
	if err := a.isolate(ctx, base, desired, suspects[:half], rejected); err != nil {
		return err
	}
	return a.isolate(ctx, base, desired, suspects[half:], rejected)
}

// isolate applies the suspects' desired state on top of base (what HAProxy
// serves), splitting them further when HAProxy refuses. base grows with
// every accepted change.
func (a *Applier) isolate(ctx context.Context, base, desired map[string]Proxy, suspects []string, rejected map[string]error) error {
	if len(suspects) == 0 {
		return nil
	}
	trial := copyProxies(base)
	for _, name := range suspects {
		if p, ok := desired[name]; ok {
			trial[name] = p
		} else {
			delete(trial, name)
		}
	}
	err := a.applyNow(ctx, trial)
	switch {
	case err == nil:
		for k := range base {
			delete(base, k)
		}
		for k, v := range trial {
			base[k] = v
		}
		return nil
	case !errors.Is(err, dataplane.ErrInvalid):
		return err
	}
	return a.split(ctx, base, desired, suspects, err, rejected)
}

// current is what HAProxy holds now (owned proxies only).
func (a *Applier) current(ctx context.Context) (map[string]Proxy, error) {
	version, err := a.Client.Version(ctx)
	if err != nil {
		return nil, err
	}
	if a.known != nil && version == a.knownVersion {
		return copyProxies(a.known), nil
	}
	cur, err := a.read(ctx)
	if err != nil {
		return nil, err
	}
	a.known, a.knownVersion = copyProxies(cur), version
	return cur, nil
}

// applyNow commits desired and waits for its reload and for the running
// process to show it.
func (a *Applier) applyNow(ctx context.Context, desired map[string]Proxy) error {
	id, marker, _, err := a.commit(ctx, desired)
	if err != nil {
		return err
	}
	if marker != 0 {
		if err := a.waitReload(ctx, id); err != nil {
			a.known = nil
			return err
		}
	}
	// Also when HAProxy's file held desired already: it may hold what the
	// running process never loaded.
	if err := a.waitLive(ctx, marker, desired); err != nil {
		a.known = nil
		return err
	}
	return nil
}

// commit writes desired in one transaction, retrying on 409/406, and
// returns the ID of the reload the server scheduled for it ("" when it
// reloaded inline or keeps no reload record) and the commit's marker (0
// when nothing changed, so nothing was committed).
func (a *Applier) commit(ctx context.Context, desired map[string]Proxy) (string, int64, Changes, error) {
	var lastErr error
	for range maxAttempts {
		version, err := a.Client.Version(ctx)
		if err != nil {
			return "", 0, Changes{}, err
		}
		current := a.known
		if current == nil || version != a.knownVersion {
			if current, err = a.read(ctx); err != nil {
				return "", 0, Changes{}, err
			}
		}
		ch := Plan(current, desired)
		if ch.Empty() {
			a.known, a.knownVersion = copyProxies(desired), version
			return "", 0, ch, nil
		}
		tid, err := a.Client.StartTransaction(ctx, version)
		reloadID := ""
		marker := version + 1
		if err == nil {
			err = a.write(ctx, tid, current, ch)
			if err == nil {
				err = a.writeMarker(ctx, tid, marker, len(desired) > 0)
			}
			if err == nil {
				if a.ReloadEvery > 0 {
					err = a.commitForced(ctx, tid, version)
				} else {
					reloadID, err = a.Client.CommitReload(ctx, tid)
				}
			}
			var notLoaded *committedNotLoaded
			if errors.As(err, &notLoaded) {
				// HAProxy's file holds the batch, its workers do not.
				a.Transactions++
				transactionsTotal.Inc()
				a.known = nil
				return "", 0, ch, err
			}
			if err != nil {
				_ = a.Client.DeleteTransaction(context.WithoutCancel(ctx), tid)
			}
		}
		if errors.Is(err, dataplane.ErrConflict) || errors.Is(err, dataplane.ErrOutdated) {
			lastErr = err
			a.known = nil // re-read on the next attempt
			continue
		}
		if err != nil {
			// A rejected transaction leaves HAProxy as it was.
			if !errors.Is(err, dataplane.ErrInvalid) {
				a.known = nil
			}
			return "", 0, ch, err
		}
		a.Transactions++
		transactionsTotal.Inc()
		a.known, a.knownVersion, a.knownMarkers = copyProxies(desired), version+1, nil
		if len(desired) > 0 {
			a.knownMarkers = []string{markerName(marker)}
		}
		return reloadID, marker, ch, nil
	}
	return "", 0, Changes{}, fmt.Errorf("gave up after %d attempts, the configuration kept changing: %w", maxAttempts, lastErr)
}

// reloadWait is how long a commit must wait for ReloadEvery to pass since
// the last one; zero when it may go now (or when reloads are scheduled).
func (a *Applier) reloadWait() time.Duration {
	if a.ReloadEvery <= 0 || a.lastForced.IsZero() {
		return 0
	}
	return max(0, time.Until(a.lastForced.Add(a.ReloadEvery)))
}

// committedNotLoaded is a commit the Data Plane API made whose inline
// reload failed: ErrInvalid with the API's message, for settle.
type committedNotLoaded struct{ err error }

func (e *committedNotLoaded) Error() string { return e.err.Error() }
func (e *committedNotLoaded) Unwrap() error { return e.err }

// commitForced commits tid, begun on version, with an inline reload. The
// Data Plane API commits before it reloads, so a failure other than the
// commit's own (outdated, refused by haproxy -c) is the reload's when the
// version moved: committedNotLoaded.
func (a *Applier) commitForced(ctx context.Context, tid string, version int64) error {
	a.lastForced = time.Now()
	err := a.Client.CommitForced(ctx, tid)
	switch {
	case err == nil:
		reloadsTotal.WithLabelValues("succeeded").Inc()
		return nil
	case errors.Is(err, dataplane.ErrOutdated), errors.Is(err, dataplane.ErrConflict), errors.Is(err, dataplane.ErrInvalid):
		return err
	}
	if now, verr := a.Client.Version(ctx); verr != nil || now != version+1 {
		return err // not committed, or not known to be
	}
	reloadsTotal.WithLabelValues("failed").Inc()
	return &committedNotLoaded{err: fmt.Errorf("%w: HAProxy failed to load the configuration (forced reload): %w", dataplane.ErrInvalid, err)}
}

// writeMarker replaces the commit marker in a transaction: an empty backend
// named after the version the commit makes, which the running process
// shows (stats/native) once it loaded this commit or a later one. HAProxy
// loads a configuration whole, so the marker vouches for every proxy of
// the commit, binds included, which the stats do not show. A commit that
// leaves lbapi no proxy leaves no marker either (nothing to confirm), so
// nothing of lbapi's stays on an appliance it no longer uses.
func (a *Applier) writeMarker(ctx context.Context, tid string, version int64, create bool) error {
	for _, name := range a.knownMarkers {
		if err := a.Client.DeleteBackend(ctx, name, tid); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			return err
		}
	}
	if !create {
		return nil
	}
	b := &models.Backend{}
	b.Name, b.Mode = markerName(version), "tcp"
	return a.Client.CreateBackend(ctx, b, tid)
}

// ReloadTimeout bounds the wait for a committed configuration's reload.
const ReloadTimeout = 2 * time.Minute

// waitReload waits for the reload a commit scheduled; a failed one is
// ErrInvalid with HAProxy's message.
func (a *Applier) waitReload(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, ReloadTimeout)
	defer cancel()
	for {
		failed, done, err := a.reloadStatus(ctx, id)
		switch {
		case err != nil:
			return err
		case done:
			return failed
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reload %s did not finish: %w", id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// reloadStatus says whether reload id is done and, if it failed, why (as
// ErrInvalid with HAProxy's message). APIs that keep no reload record
// (404) are trusted; callers then rely on probing the VIPs.
func (a *Applier) reloadStatus(ctx context.Context, id string) (failed error, done bool, err error) {
	if id == "" {
		return nil, true, nil
	}
	r, err := a.Client.Reload(ctx, id)
	switch {
	case errors.Is(err, dataplane.ErrNotFound):
		reloadsTotal.WithLabelValues("unrecorded").Inc()
		return nil, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("reading reload %s: %w", id, err)
	case r.Status == models.ReloadStatusFailed:
		reloadsTotal.WithLabelValues("failed").Inc()
		return fmt.Errorf("%w: HAProxy failed to load the configuration (reload %s): %s", dataplane.ErrInvalid, id, strings.TrimSpace(r.Response)), true, nil
	case r.Status == models.ReloadStatusSucceeded:
		reloadsTotal.WithLabelValues("succeeded").Inc()
		return nil, true, nil
	}
	return nil, false, nil
}

func equalProxy(a, b Proxy) bool {
	if a.Name != b.Name || a.VIP != b.VIP || a.Port != b.Port || a.HealthCheckTLS != b.HealthCheckTLS || len(a.Servers) != len(b.Servers) {
		return false
	}
	for i := range a.Servers {
		if a.Servers[i] != b.Servers[i] {
			return false
		}
	}
	return true
}

func (a *Applier) write(ctx context.Context, tid string, current map[string]Proxy, ch Changes) error {
	c := a.Client
	for _, name := range ch.Delete {
		if err := c.DeleteFrontend(ctx, name, tid); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			return err
		}
		if err := c.DeleteBackend(ctx, name, tid); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			return err
		}
	}
	for _, p := range ch.Create {
		if err := c.CreateBackend(ctx, backendModel(p), tid); err != nil {
			return err
		}
		for _, s := range p.Servers {
			if err := c.CreateServer(ctx, p.Name, serverModel(s, p.HealthCheckTLS), tid); err != nil {
				return err
			}
		}
		if err := c.CreateFrontend(ctx, frontendModel(p), tid); err != nil {
			return err
		}
		if err := c.CreateBind(ctx, p.Name, bindModel(p), tid); err != nil {
			return err
		}
	}
	for _, p := range ch.Rebind {
		if _, ok := current[p.Name]; ok {
			if err := c.DeleteBind(ctx, p.Name, bindName, tid); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
				return err
			}
		}
		if err := c.CreateBind(ctx, p.Name, bindModel(p), tid); err != nil {
			return err
		}
	}
	for backend, names := range ch.DelServers {
		for _, n := range names {
			if err := c.DeleteServer(ctx, backend, n, tid); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
				return err
			}
		}
	}
	for backend, servers := range ch.AddServers {
		for _, s := range servers {
			if err := c.CreateServer(ctx, backend, serverModel(s, current[backend].HealthCheckTLS), tid); err != nil {
				return err
			}
		}
	}
	return nil
}

// read loads the owned proxies from HAProxy.
func (a *Applier) read(ctx context.Context) (map[string]Proxy, error) {
	c := a.Client
	out := map[string]Proxy{}
	frontends, err := c.Frontends(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, f := range frontends {
		if !strings.HasPrefix(f.Name, Prefix) {
			continue
		}
		p := Proxy{Name: f.Name}
		binds, err := c.Binds(ctx, f.Name, "")
		if err != nil {
			return nil, err
		}
		for _, b := range binds {
			if b.Name == bindName {
				p.VIP, _ = netip.ParseAddr(b.Address)
				if b.Port != nil {
					p.Port = int32(*b.Port)
				}
			}
		}
		out[f.Name] = p
	}
	backends, err := c.Backends(ctx, "")
	if err != nil {
		return nil, err
	}
	a.knownMarkers = nil
	for _, b := range backends {
		if _, ok := markerVersion(b.Name); ok {
			a.knownMarkers = append(a.knownMarkers, b.Name)
			continue
		}
		if !strings.HasPrefix(b.Name, Prefix) {
			continue
		}
		p := out[b.Name]
		p.Name = b.Name
		p.HealthCheckTLS = b.AdvCheck == "httpchk"
		servers, err := c.Servers(ctx, b.Name, "")
		if err != nil {
			return nil, err
		}
		for _, s := range servers {
			addr, _ := netip.ParseAddr(s.Address)
			var port int32
			if s.Port != nil {
				port = int32(*s.Port)
			}
			p.Servers = append(p.Servers, Server{Name: s.Name, Address: addr, Port: port, Check: s.Check == "enabled"})
		}
		out[b.Name] = p
	}
	return out, nil
}

const bindName = "vip"

func backendModel(p Proxy) *models.Backend {
	b := &models.Backend{}
	b.Name = p.Name
	b.Mode = "tcp"
	b.Balance = &models.Balance{Algorithm: ptr.To("roundrobin")}
	if p.HealthCheckTLS {
		// A kube-apiserver is up when /readyz says so, not when it accepts TCP.
		b.AdvCheck = "httpchk"
		b.HttpchkParams = &models.HttpchkParams{Method: "GET", URI: "/readyz"}
	}
	return b
}

// transitionCheckInterval is how often a server that is down or changing
// state is health-checked.
const transitionCheckInterval = 250 * time.Millisecond

func serverModel(s Server, tls bool) *models.Server {
	m := &models.Server{Name: s.Name, Address: s.Address.String()}
	if s.Port != 0 {
		// No port is HAProxy's "the port the client connected to"; whether
		// that is acceptable (it is not with a check) is HAProxy's call.
		m.Port = ptr.To(int64(s.Port))
	}
	m.Weight = ptr.To[int64](100)
	if s.Check {
		m.Check = "enabled"
		// A server that is down, or changing state, is checked every
		// 250 ms rather than at the steady 2 s: a control plane whose API
		// server has just become ready is served within half a second
		// (rise 2) instead of up to 4 s, while its clients (Cluster API's
		// cluster cache among them) retry against a VIP with no server.
		m.Downinter = ptr.To(int64(transitionCheckInterval.Milliseconds()))
		m.Fastinter = ptr.To(int64(transitionCheckInterval.Milliseconds()))
		if tls {
			// Guest kube-apiservers' serving certificates are not ours to verify here.
			m.CheckSsl = "enabled"
			m.Verify = "none"
		}
	}
	return m
}

func frontendModel(p Proxy) *models.Frontend {
	f := &models.Frontend{}
	f.Name = p.Name
	f.Mode = "tcp"
	f.DefaultBackend = p.Name
	return f
}

func bindModel(p Proxy) *models.Bind {
	b := &models.Bind{Address: p.VIP.String(), Port: ptr.To(int64(p.Port))}
	b.Name = bindName
	return b
}

func copyProxies(in map[string]Proxy) map[string]Proxy {
	out := make(map[string]Proxy, len(in))
	for k, v := range in {
		v.Servers = append([]Server(nil), v.Servers...)
		out[k] = v
	}
	return out
}
