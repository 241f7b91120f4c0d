package inventory

import (
	"context"
	"crypto/tls"
	"maps"
	"sync"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"

	"github.com/open-supervisor/supervisor/providers/vsphere/session"
)

// A burst of reconciles (100 VMs created at once) misses the empty caches
// together: they share one lookup of each entry, so the burst asks vCenter
// no more than a single caller does.
func TestConcurrentMissesShareOneLookup(t *testing.T) {
	ctx := context.Background()
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	srv := m.Service.NewServer()
	t.Cleanup(func() { srv.Close(); m.Remove() })
	ca, err := srv.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := srv.URL.User.Password()
	u := *srv.URL
	u.User = nil
	cache := session.NewCache()
	s, err := cache.Get(ctx, session.Params{Server: u.String(), Username: srv.URL.User.Username(), Password: pw, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := find.NewFinder(s.Client).DefaultDatastore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dsProps mo.Datastore
	if err := property.DefaultCollector(s.Client).RetrieveOne(ctx, ds.Reference(), []string{"summary.url"}, &dsProps); err != nil {
		t.Fatal(err)
	}

	// What each caller asks for while provisioning a VM.
	lookUp := func(inv *Inventory, folder string) error {
		if _, err := inv.NamespaceFolder(ctx, folder); err != nil {
			return err
		}
		if _, err := inv.NetworkBacking(ctx, "DC0_DVPG0"); err != nil {
			return err
		}
		if _, err := inv.DatastoreByURL(ctx, dsProps.Summary.Url); err != nil {
			return err
		}
		_, err := inv.MinHostCPUMhz(ctx)
		return err
	}
	calls := func(do func()) int64 {
		before := maps.Clone(cache.Stats.Calls())
		do()
		var n int64
		for method, c := range cache.Stats.Calls() {
			n += c - before[method]
		}
		return n
	}
	newInventory := func() *Inventory {
		inv := New(s, Config{})
		if err := inv.Init(ctx); err != nil {
			t.Fatal(err)
		}
		return inv
	}

	one := newInventory()
	single := calls(func() {
		if err := lookUp(one, "ns-single"); err != nil {
			t.Fatal(err)
		}
	})
	if single == 0 {
		t.Fatal("the first lookups asked vCenter nothing")
	}

	burst := newInventory()
	const callers = 32
	errs := make(chan error, callers)
	concurrent := calls(func() {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range callers {
			wg.Go(func() {
				<-start
				errs <- lookUp(burst, "ns-burst")
			})
		}
		close(start)
		wg.Wait()
	})
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if concurrent != single {
		t.Errorf("%d callers at once made %d vCenter calls; one caller makes %d", callers, concurrent, single)
	}
	if again := calls(func() { _ = lookUp(burst, "ns-burst") }); again != 0 {
		t.Errorf("cached lookups asked vCenter %d times", again)
	}
}
