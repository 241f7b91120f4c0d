package inventory_test

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/vmware/govmomi/find"

	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
)

// A burst of reconciles (100 VMs created at once) misses the empty caches
// together: they share one lookup of each entry, so the burst asks vCenter
// no more than a single caller does.
func TestConcurrentMissesShareOneLookup(t *testing.T) {
	ctx := context.Background()
	sim, err := vcsim.Start(ctx, vcsim.Options{NodeImages: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	cache := session.NewCache()
	s, err := cache.Get(ctx, session.Params{Server: sim.URL.String(), Username: sim.Username, Password: sim.Password, CAFile: sim.CAFile})
	if err != nil {
		t.Fatal(err)
	}

	finder := find.NewFinder(sim.Client.Client, true)
	dc, err := finder.Datacenter(ctx, vcsim.Datacenter)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := finder.SetDatacenter(dc).HostSystemList(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	host := hosts[0]

	// What each caller asks for while provisioning a VM and reporting it.
	lookUp := func(inv *inventory.Inventory, folder string) error {
		if _, err := inv.NamespaceFolder(ctx, folder); err != nil {
			return err
		}
		if _, err := inv.NetworkBacking(ctx, vcsim.WorkloadPortGroup); err != nil {
			return err
		}
		ds, err := inv.DatastoreByURL(ctx, sim.DatastoreURL)
		if err != nil {
			return err
		}
		if name, err := inv.DatastoreName(ctx, ds); err != nil || name == "" {
			return fmt.Errorf("datastore %s: name %q, %w", ds.Value, name, err)
		}
		if name, err := inv.HostName(ctx, host.Reference()); err != nil || name != host.Name() {
			return fmt.Errorf("host %s: name %q, want %q, %w", host.Reference().Value, name, host.Name(), err)
		}
		_, err = inv.MinHostCPUMhz(ctx)
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
	newInventory := func() *inventory.Inventory {
		inv := inventory.New(s, inventory.Config{})
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
