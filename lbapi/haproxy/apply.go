package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/haproxytech/client-native/v6/models"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/lbapi/dataplane"
)

// maxAttempts bounds retries after 409/406 (someone else wrote meanwhile).
const maxAttempts = 5

// Applier writes plans to one appliance. It remembers what HAProxy held
// after its own last commit, so a steady state costs one version read; any
// other version (a restart, another writer) makes it read HAProxy again.
type Applier struct {
	Client *dataplane.Client

	mu           sync.Mutex
	known        map[string]Proxy
	knownVersion int64
	// Transactions counts committed transactions (benchmarks read it).
	Transactions int
}

// Apply makes HAProxy serve exactly desired (for owned proxies) in one
// transaction and returns what it changed.
func (a *Applier) Apply(ctx context.Context, desired map[string]Proxy) (Changes, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var lastErr error
	for range maxAttempts {
		version, err := a.Client.Version(ctx)
		if err != nil {
			return Changes{}, err
		}
		current := a.known
		if current == nil || version != a.knownVersion {
			if current, err = a.read(ctx); err != nil {
				return Changes{}, err
			}
		}
		ch := Plan(current, desired)
		if ch.Empty() {
			a.known, a.knownVersion = copyProxies(desired), version
			return ch, nil
		}
		tid, err := a.Client.StartTransaction(ctx, version)
		if err == nil {
			err = a.write(ctx, tid, current, ch)
			if err == nil {
				err = a.Client.Commit(ctx, tid)
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
			a.known = nil
			return ch, err
		}
		a.Transactions++
		a.known, a.knownVersion = copyProxies(desired), version+1
		return ch, nil
	}
	return Changes{}, fmt.Errorf("gave up after %d attempts, the configuration kept changing: %w", maxAttempts, lastErr)
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
			if err := c.CreateServer(ctx, p.Name, serverModel(s), tid); err != nil {
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
			if err := c.CreateServer(ctx, backend, serverModel(s), tid); err != nil {
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
	for _, b := range backends {
		if !strings.HasPrefix(b.Name, Prefix) {
			continue
		}
		p := out[b.Name]
		p.Name = b.Name
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
			p.Servers = append(p.Servers, Server{Name: s.Name, Address: addr, Port: port})
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
	return b
}

func serverModel(s Server) *models.Server {
	m := &models.Server{Name: s.Name, Address: s.Address.String(), Port: ptr.To(int64(s.Port))}
	m.Check = "enabled"
	m.Weight = ptr.To[int64](100)
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
