package fake

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"

	"github.com/go-openapi/strfmt"
	"github.com/haproxytech/client-native/v6/models"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
)

// Config is one HAProxy configuration: sections by name, binds and servers
// by their frontend and backend.
type Config struct {
	Frontends map[string]*models.Frontend
	Binds     map[string]map[string]*models.Bind // frontend -> bind name -> bind
	Backends  map[string]*models.Backend
	Servers   map[string]map[string]*models.Server // backend -> server name -> server
}

// DataPlane is an in-memory Data Plane API. The zero value is an empty
// configuration at version 1 whose commits pass the built-in check and
// whose reloads succeed at once. Set the fields before the first call.
type DataPlane struct {
	// Check runs at commit after the built-in checks, as haproxy -c would:
	// an error refuses the commit (ErrInvalid with its message) and leaves
	// the version alone.
	Check func(Config) error
	// Load decides how a reload of the committed configuration goes: an
	// error fails it with that message (e.g. an address in use), and
	// HAProxy keeps serving what it loaded before.
	Load func(Config) error
	// HoldReloads keeps reloads in progress until FinishReloads.
	HoldReloads bool
	// NoReloadRecords answers commits without a reload ID and reload
	// queries with 404, as Data Plane APIs that keep no reload records.
	NoReloadRecords bool
	// SignalReloads reports every reload succeeded, also one whose Load
	// failed (HAProxy then keeps running what it loaded before), as the
	// real Data Plane API does with a signal reload command on HAProxy 2.6.
	SignalReloads bool
	// NoStats answers Stats with 404, as an API without runtime endpoints.
	NoStats bool

	mu        sync.Mutex
	init      bool
	version   int64
	committed Config
	loaded    Config
	txs       map[string]*transaction
	reloads   map[string]*models.Reload
	held      []string
	seq       int
	calls     map[string]int
}

type transaction struct {
	version int64
	cfg     Config
	failed  bool
}

var _ dataplane.API = (*DataPlane)(nil)

// lock takes the lock, counts the call and returns ctx's error, if any.
func (d *DataPlane) lock(ctx context.Context, method string) error {
	d.mu.Lock()
	if !d.init {
		d.init = true
		d.version = 1
		d.committed, d.loaded = emptyConfig(), emptyConfig()
		d.txs, d.reloads, d.calls = map[string]*transaction{}, map[string]*models.Reload{}, map[string]int{}
	}
	d.calls[method]++
	return ctx.Err()
}

// Calls is how often method (e.g. "Version", "StartTransaction") was called.
func (d *DataPlane) Calls(method string) int {
	_ = d.lock(context.Background(), "Calls")
	defer d.mu.Unlock()
	return d.calls[method]
}

// Committed is the configuration the last commit wrote (HAProxy's file).
func (d *DataPlane) Committed() Config {
	_ = d.lock(context.Background(), "Committed")
	defer d.mu.Unlock()
	return d.committed.clone()
}

// Loaded is the configuration the last successful reload loaded (what
// HAProxy serves).
func (d *DataPlane) Loaded() Config {
	_ = d.lock(context.Background(), "Loaded")
	defer d.mu.Unlock()
	return d.loaded.clone()
}

// Restart is the appliance coming back without its configuration (a new
// appliance at the same address): empty, at version 1, no transaction or
// reload left. The calls counted so far stay.
func (d *DataPlane) Restart() {
	_ = d.lock(context.Background(), "Restart")
	defer d.mu.Unlock()
	d.version = 1
	d.committed, d.loaded = emptyConfig(), emptyConfig()
	d.txs, d.reloads, d.held = map[string]*transaction{}, map[string]*models.Reload{}, nil
}

// FinishReloads completes the reloads HoldReloads kept in progress; they
// load the configuration committed now, as one coalesced reload would.
func (d *DataPlane) FinishReloads() {
	_ = d.lock(context.Background(), "FinishReloads")
	defer d.mu.Unlock()
	d.finish(d.held...)
	d.held = nil
}

// Version implements dataplane.API.
func (d *DataPlane) Version(ctx context.Context) (int64, error) {
	if err := d.lock(ctx, "Version"); err != nil {
		d.mu.Unlock()
		return 0, err
	}
	defer d.mu.Unlock()
	return d.version, nil
}

// StartTransaction implements dataplane.API.
func (d *DataPlane) StartTransaction(ctx context.Context, version int64) (string, error) {
	if err := d.lock(ctx, "StartTransaction"); err != nil {
		d.mu.Unlock()
		return "", err
	}
	defer d.mu.Unlock()
	if version != d.version {
		return "", fmt.Errorf("%w: version mismatch: transaction on version %d, configuration at %d", dataplane.ErrConflict, version, d.version)
	}
	d.seq++
	id := "tx-" + strconv.Itoa(d.seq)
	d.txs[id] = &transaction{version: version, cfg: d.committed.clone()}
	return id, nil
}

// CommitReload implements dataplane.API.
func (d *DataPlane) CommitReload(ctx context.Context, tid string) (string, error) {
	if err := d.lock(ctx, "CommitReload"); err != nil {
		d.mu.Unlock()
		return "", err
	}
	defer d.mu.Unlock()
	if err := d.commit(tid); err != nil {
		return "", err
	}
	if d.NoReloadRecords {
		d.load()
		return "", nil
	}
	d.seq++
	id := "reload-" + strconv.Itoa(d.seq)
	d.reloads[id] = &models.Reload{ID: id, Status: models.ReloadStatusInProgress}
	if d.HoldReloads {
		d.held = append(d.held, id)
	} else {
		d.finish(id)
	}
	return id, nil
}

// CommitForced implements dataplane.API: the reload happens before the
// answer, and a load that failed answers an error after the commit (as
// the Data Plane API's 500), unless SignalReloads.
func (d *DataPlane) CommitForced(ctx context.Context, tid string) error {
	if err := d.lock(ctx, "CommitForced"); err != nil {
		d.mu.Unlock()
		return err
	}
	defer d.mu.Unlock()
	if err := d.commit(tid); err != nil {
		return err
	}
	if err := d.load(); err != nil && !d.SignalReloads {
		return fmt.Errorf("data plane API answered 500: failed to reload haproxy: %w", err)
	}
	return nil
}

// commit makes transaction tid the configuration; d.mu is held.
func (d *DataPlane) commit(tid string) error {
	t, err := d.tx(tid)
	if err != nil {
		return err
	}
	if t.version != d.version {
		return fmt.Errorf("%w: transaction %s is outdated and cannot be committed", dataplane.ErrOutdated, tid)
	}
	if err := d.check(t.cfg); err != nil {
		t.failed = true
		return fmt.Errorf("%w: validation error: %w", dataplane.ErrInvalid, err)
	}
	delete(d.txs, tid)
	d.committed = t.cfg
	d.version++
	return nil
}

// DeleteTransaction implements dataplane.API.
func (d *DataPlane) DeleteTransaction(ctx context.Context, tid string) error {
	if err := d.lock(ctx, "DeleteTransaction"); err != nil {
		d.mu.Unlock()
		return err
	}
	defer d.mu.Unlock()
	if _, ok := d.txs[tid]; !ok {
		return fmt.Errorf("%w: transaction %s", dataplane.ErrNotFound, tid)
	}
	delete(d.txs, tid)
	return nil
}

// Reload implements dataplane.API.
func (d *DataPlane) Reload(ctx context.Context, id string) (*models.Reload, error) {
	if err := d.lock(ctx, "Reload"); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	defer d.mu.Unlock()
	r, ok := d.reloads[id]
	if !ok {
		return nil, fmt.Errorf("%w: reload %s", dataplane.ErrNotFound, id)
	}
	out := *r
	return &out, nil
}

// Stats implements dataplane.API: the loaded configuration's frontends,
// backends and servers (with their address as "addr"), as "show stat" of
// the running process lists them.
func (d *DataPlane) Stats(ctx context.Context) (*models.NativeStats, error) {
	if err := d.lock(ctx, "Stats"); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	defer d.mu.Unlock()
	if d.NoStats {
		return nil, fmt.Errorf("%w: GET /v3/services/haproxy/stats/native", dataplane.ErrNotFound)
	}
	st := &models.NativeStats{RuntimeAPI: "fake"}
	for _, f := range list(d.loaded.Frontends) {
		st.Stats = append(st.Stats, &models.NativeStat{Name: f.Name, Type: "frontend", Stats: &models.NativeStatStats{Status: "OPEN"}})
	}
	for _, b := range list(d.loaded.Backends) {
		for _, s := range list(d.loaded.Servers[b.Name]) {
			addr := s.Address
			if s.Port != nil {
				addr = net.JoinHostPort(s.Address, strconv.FormatInt(*s.Port, 10))
			}
			st.Stats = append(st.Stats, &models.NativeStat{Name: s.Name, Type: "server", BackendName: b.Name, Stats: &models.NativeStatStats{Addr: addr}})
		}
		st.Stats = append(st.Stats, &models.NativeStat{Name: b.Name, Type: "backend", Stats: &models.NativeStatStats{Status: "UP"}})
	}
	return st, nil
}

// Frontends implements dataplane.API.
func (d *DataPlane) Frontends(ctx context.Context, tid string) (models.Frontends, error) {
	cfg, unlock, err := d.read(ctx, "Frontends", tid)
	defer unlock()
	if err != nil {
		return nil, err
	}
	return list(cfg.Frontends), nil
}

// Backends implements dataplane.API.
func (d *DataPlane) Backends(ctx context.Context, tid string) (models.Backends, error) {
	cfg, unlock, err := d.read(ctx, "Backends", tid)
	defer unlock()
	if err != nil {
		return nil, err
	}
	return list(cfg.Backends), nil
}

// Binds implements dataplane.API.
func (d *DataPlane) Binds(ctx context.Context, frontend, tid string) (models.Binds, error) {
	cfg, unlock, err := d.read(ctx, "Binds", tid)
	defer unlock()
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Frontends[frontend]; !ok {
		return nil, fmt.Errorf("%w: parent frontend %s", dataplane.ErrNotFound, frontend)
	}
	return list(cfg.Binds[frontend]), nil
}

// Servers implements dataplane.API.
func (d *DataPlane) Servers(ctx context.Context, backend, tid string) (models.Servers, error) {
	cfg, unlock, err := d.read(ctx, "Servers", tid)
	defer unlock()
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Backends[backend]; !ok {
		return nil, fmt.Errorf("%w: parent backend %s", dataplane.ErrNotFound, backend)
	}
	return list(cfg.Servers[backend]), nil
}

// CreateFrontend implements dataplane.API.
func (d *DataPlane) CreateFrontend(ctx context.Context, f *models.Frontend, tid string) error {
	return d.write(ctx, "CreateFrontend", tid, f, func(cfg Config) error {
		return create(cfg.Frontends, "frontend", f.Name, clone(f))
	})
}

// CreateBackend implements dataplane.API.
func (d *DataPlane) CreateBackend(ctx context.Context, b *models.Backend, tid string) error {
	return d.write(ctx, "CreateBackend", tid, b, func(cfg Config) error {
		return create(cfg.Backends, "backend", b.Name, clone(b))
	})
}

// CreateBind implements dataplane.API.
func (d *DataPlane) CreateBind(ctx context.Context, frontend string, b *models.Bind, tid string) error {
	return d.write(ctx, "CreateBind", tid, b, func(cfg Config) error {
		if _, ok := cfg.Frontends[frontend]; !ok {
			return fmt.Errorf("%w: parent frontend %s", dataplane.ErrNotFound, frontend)
		}
		if cfg.Binds[frontend] == nil {
			cfg.Binds[frontend] = map[string]*models.Bind{}
		}
		return create(cfg.Binds[frontend], "bind", b.Name, clone(b))
	})
}

// CreateServer implements dataplane.API.
func (d *DataPlane) CreateServer(ctx context.Context, backend string, s *models.Server, tid string) error {
	return d.write(ctx, "CreateServer", tid, s, func(cfg Config) error {
		if _, ok := cfg.Backends[backend]; !ok {
			return fmt.Errorf("%w: parent backend %s", dataplane.ErrNotFound, backend)
		}
		if cfg.Servers[backend] == nil {
			cfg.Servers[backend] = map[string]*models.Server{}
		}
		return create(cfg.Servers[backend], "server", s.Name, clone(s))
	})
}

// DeleteFrontend implements dataplane.API; the frontend's binds go with it.
func (d *DataPlane) DeleteFrontend(ctx context.Context, name, tid string) error {
	return d.write(ctx, "DeleteFrontend", tid, nil, func(cfg Config) error {
		delete(cfg.Binds, name)
		return remove(cfg.Frontends, "frontend", name)
	})
}

// DeleteBackend implements dataplane.API; the backend's servers go with it.
func (d *DataPlane) DeleteBackend(ctx context.Context, name, tid string) error {
	return d.write(ctx, "DeleteBackend", tid, nil, func(cfg Config) error {
		delete(cfg.Servers, name)
		return remove(cfg.Backends, "backend", name)
	})
}

// DeleteBind implements dataplane.API.
func (d *DataPlane) DeleteBind(ctx context.Context, frontend, name, tid string) error {
	return d.write(ctx, "DeleteBind", tid, nil, func(cfg Config) error {
		return remove(cfg.Binds[frontend], "bind", name)
	})
}

// DeleteServer implements dataplane.API.
func (d *DataPlane) DeleteServer(ctx context.Context, backend, name, tid string) error {
	return d.write(ctx, "DeleteServer", tid, nil, func(cfg Config) error {
		return remove(cfg.Servers[backend], "server", name)
	})
}

// read returns the configuration tid sees (the committed one for ""),
// holding the lock until unlock.
func (d *DataPlane) read(ctx context.Context, method, tid string) (Config, func(), error) {
	err := d.lock(ctx, method)
	if err != nil {
		return Config{}, d.mu.Unlock, err
	}
	if tid == "" {
		return d.committed, d.mu.Unlock, nil
	}
	t, err := d.tx(tid)
	if err != nil {
		return Config{}, d.mu.Unlock, err
	}
	return t.cfg, d.mu.Unlock, nil
}

// validatable is a model the API checks against its schema (422).
type validatable interface {
	Validate(strfmt.Registry) error
}

// write changes a transaction's configuration. lbapi writes only in
// transactions; a write without one is refused as the API refuses a write
// with neither transaction_id nor version.
func (d *DataPlane) write(ctx context.Context, method, tid string, body validatable, change func(Config) error) error {
	if err := d.lock(ctx, method); err != nil {
		d.mu.Unlock()
		return err
	}
	defer d.mu.Unlock()
	if tid == "" {
		return fmt.Errorf("%s: 400 version or transaction not specified", method)
	}
	t, err := d.tx(tid)
	if err != nil {
		return err
	}
	if body != nil {
		if err := body.Validate(strfmt.Default); err != nil {
			return fmt.Errorf("%w: %s: 422 %w", dataplane.ErrInvalid, method, err)
		}
	}
	return change(t.cfg)
}

// tx is an open transaction.
func (d *DataPlane) tx(tid string) (*transaction, error) {
	t, ok := d.txs[tid]
	if !ok {
		return nil, fmt.Errorf("%w: transaction %s", dataplane.ErrNotFound, tid)
	}
	if t.failed {
		return nil, fmt.Errorf("%w: transaction %s failed", dataplane.ErrNotFound, tid)
	}
	return t, nil
}

// check is haproxy -c for what lbapi writes, then the test's Check.
func (d *DataPlane) check(cfg Config) error {
	for _, f := range list(cfg.Frontends) {
		if _, ok := cfg.Backends[f.DefaultBackend]; f.DefaultBackend != "" && !ok {
			return fmt.Errorf("proxy '%s': unable to find required default_backend: '%s'", f.Name, f.DefaultBackend)
		}
	}
	for _, b := range list(cfg.Backends) {
		for _, s := range list(cfg.Servers[b.Name]) {
			if s.Check == "enabled" && s.Port == nil {
				return fmt.Errorf("config : 'server %s/%s' : neither service port nor check port. Check has been disabled", b.Name, s.Name)
			}
		}
	}
	if d.Check != nil {
		return d.Check(cfg.clone())
	}
	return nil
}

// finish completes reloads: all load the committed configuration.
func (d *DataPlane) finish(ids ...string) {
	if len(ids) == 0 {
		return
	}
	status, response := models.ReloadStatusSucceeded, ""
	if err := d.load(); err != nil && !d.SignalReloads {
		status, response = models.ReloadStatusFailed, err.Error()
	}
	for _, id := range ids {
		d.reloads[id].Status, d.reloads[id].Response = status, response
	}
}

// load reloads HAProxy with the committed configuration.
func (d *DataPlane) load() error {
	if d.Load != nil {
		if err := d.Load(d.committed.clone()); err != nil {
			return err
		}
	}
	d.loaded = d.committed.clone()
	return nil
}

func create[T any](m map[string]*T, kind, name string, obj *T) error {
	if _, ok := m[name]; ok {
		return fmt.Errorf("%w: %s %s already exists", dataplane.ErrConflict, kind, name)
	}
	m[name] = obj
	return nil
}

func remove[T any](m map[string]*T, kind, name string) error {
	if _, ok := m[name]; !ok {
		return fmt.Errorf("%w: %s %s does not exist", dataplane.ErrNotFound, kind, name)
	}
	delete(m, name)
	return nil
}

// list returns copies of the objects, ordered by name.
func list[T any](m map[string]*T) []*T {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*T, 0, len(m))
	for _, n := range names {
		out = append(out, clone(m[n]))
	}
	return out
}

// clone copies a model through its JSON, as the wire would.
func clone[T any](v *T) *T {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fake data plane: cannot encode %T: %v", v, err))
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		panic(fmt.Sprintf("fake data plane: cannot decode %T: %v", v, err))
	}
	return out
}

func emptyConfig() Config {
	return Config{
		Frontends: map[string]*models.Frontend{}, Binds: map[string]map[string]*models.Bind{},
		Backends: map[string]*models.Backend{}, Servers: map[string]map[string]*models.Server{},
	}
}

func (c Config) clone() Config {
	out := emptyConfig()
	for n, f := range c.Frontends {
		out.Frontends[n] = clone(f)
	}
	for n, b := range c.Backends {
		out.Backends[n] = clone(b)
	}
	for f, bs := range c.Binds {
		out.Binds[f] = map[string]*models.Bind{}
		for n, b := range bs {
			out.Binds[f][n] = clone(b)
		}
	}
	for b, ss := range c.Servers {
		out.Servers[b] = map[string]*models.Server{}
		for n, s := range ss {
			out.Servers[b][n] = clone(s)
		}
	}
	return out
}
