package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"golang.org/x/sync/singleflight"

	"github.com/open-supervisor/supervisor/providers/vsphere/session"
)

// Config says where in vCenter the supervisor works.
type Config struct {
	// Datacenter name; empty means the only one.
	Datacenter string
	// Cluster name; empty means the only one.
	Cluster string
	// Folder is the VM folder, under the datacenter's VM folder, holding one
	// folder per namespace (vSphere with Tanzu calls it "Namespaces").
	Folder string
}

// ErrNotFound marks a lookup of something that does not exist in vCenter.
var ErrNotFound = errors.New("not found in vCenter")

// Inventory resolves and caches vCenter objects.
type Inventory struct {
	Session *session.Session
	cfg     Config

	initOnce sync.Once
	initErr  error

	Datacenter *object.Datacenter
	// Pool is the cluster's root resource pool.
	Pool *object.ResourcePool
	// Root is the folder holding the namespace folders.
	Root *object.Folder

	mu         sync.Mutex
	nsFolders  map[string]*object.Folder
	hostNames  map[types.ManagedObjectReference]string
	dsNames    map[types.ManagedObjectReference]string
	networks   map[string]object.NetworkReference
	datastores map[string]types.ManagedObjectReference // summary.url -> datastore
	images     map[string]*Image                       // library item ID -> cached template
	imageLocks map[string]*sync.Mutex
	backings   map[string]types.BaseVirtualDeviceBackingInfo
	cpuMhz     int64

	// lookups makes concurrent misses of one cache entry share one
	// lookup: a burst of reconciles (100 VMs created at once) missed the
	// empty caches together and each asked vCenter, which made the SOAP
	// calls per VM vary from 4.8 to 8.4 between runs.
	lookups singleflight.Group
}

// lookup returns the cached value, or runs fetch (which fills the cache)
// once for all concurrent callers with the same key. The caller that starts
// it lends its context to the others.
func lookup[T any](inv *Inventory, key string, cached func() (T, bool), fetch func() (T, error)) (T, error) {
	if v, ok := cached(); ok {
		return v, nil
	}
	v, err, _ := inv.lookups.Do(key, func() (any, error) {
		// A lookup that ended since the check above filled the cache.
		if v, ok := cached(); ok {
			return v, nil
		}
		return fetch()
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// lookupIn is lookup for an entry of a cache map (never replaced, only
// added to): fetch's value is stored at k.
func lookupIn[K comparable, V any](inv *Inventory, key string, m map[K]V, k K, fetch func() (V, error)) (V, error) {
	cached := func() (V, bool) {
		inv.mu.Lock()
		defer inv.mu.Unlock()
		v, ok := m[k]
		return v, ok
	}
	return lookup(inv, key, cached, func() (V, error) {
		v, err := fetch()
		if err != nil {
			return v, err
		}
		inv.mu.Lock()
		m[k] = v
		inv.mu.Unlock()
		return v, nil
	})
}

// New returns an inventory over a session; lookups start on first use.
func New(s *session.Session, cfg Config) *Inventory {
	if cfg.Folder == "" {
		cfg.Folder = "Namespaces"
	}
	return &Inventory{
		Session:    s,
		cfg:        cfg,
		nsFolders:  map[string]*object.Folder{},
		hostNames:  map[types.ManagedObjectReference]string{},
		dsNames:    map[types.ManagedObjectReference]string{},
		networks:   map[string]object.NetworkReference{},
		images:     map[string]*Image{},
		imageLocks: map[string]*sync.Mutex{},
		backings:   map[string]types.BaseVirtualDeviceBackingInfo{},
	}
}

// Init finds the datacenter, cluster and root folder once.
func (inv *Inventory) Init(ctx context.Context) error {
	inv.initOnce.Do(func() { inv.initErr = inv.init(ctx) })
	return inv.initErr
}

func (inv *Inventory) init(ctx context.Context) error {
	finder := find.NewFinder(inv.Session.Client, false)
	var err error
	if inv.cfg.Datacenter == "" {
		inv.Datacenter, err = finder.DefaultDatacenter(ctx)
	} else {
		inv.Datacenter, err = finder.Datacenter(ctx, inv.cfg.Datacenter)
	}
	if err != nil {
		return fmt.Errorf("failed to find datacenter %q: %w", inv.cfg.Datacenter, err)
	}
	finder.SetDatacenter(inv.Datacenter)

	var cluster *object.ClusterComputeResource
	if inv.cfg.Cluster == "" {
		cluster, err = finder.DefaultClusterComputeResource(ctx)
	} else {
		cluster, err = finder.ClusterComputeResource(ctx, inv.cfg.Cluster)
	}
	if err != nil {
		return fmt.Errorf("failed to find cluster %q: %w", inv.cfg.Cluster, err)
	}
	if inv.Pool, err = cluster.ResourcePool(ctx); err != nil {
		return fmt.Errorf("failed to find the resource pool of cluster %s: %w", cluster.InventoryPath, err)
	}

	folders, err := inv.Datacenter.Folders(ctx)
	if err != nil {
		return fmt.Errorf("failed to find the folders of datacenter %s: %w", inv.Datacenter.InventoryPath, err)
	}
	inv.Root, err = ensureFolder(ctx, folders.VmFolder, inv.cfg.Folder)
	return err
}

// NamespaceFolder returns the VM folder of a namespace, creating it once.
func (inv *Inventory) NamespaceFolder(ctx context.Context, namespace string) (*object.Folder, error) {
	return lookupIn(inv, "folder/"+namespace, inv.nsFolders, namespace, func() (*object.Folder, error) {
		return ensureFolder(ctx, inv.Root, namespace)
	})
}

// ensureFolder finds or creates a child folder; a concurrent creator's
// DuplicateName is answered by finding the folder it made.
func ensureFolder(ctx context.Context, parent *object.Folder, name string) (*object.Folder, error) {
	si := object.NewSearchIndex(parent.Client())
	if ref, err := si.FindChild(ctx, parent, name); err != nil {
		return nil, fmt.Errorf("failed to look up folder %s: %w", name, err)
	} else if ref != nil {
		return object.NewFolder(parent.Client(), ref.Reference()), nil
	}
	f, err := parent.CreateFolder(ctx, name)
	if err == nil {
		return f, nil
	}
	if !fault.Is(err, &types.DuplicateName{}) {
		return nil, fmt.Errorf("failed to create folder %s: %w", name, err)
	}
	ref, err := si.FindChild(ctx, parent, name)
	if err != nil || ref == nil {
		return nil, fmt.Errorf("failed to find folder %s after a concurrent create: %w", name, err)
	}
	return object.NewFolder(parent.Client(), ref.Reference()), nil
}

// HostName returns the name of a host, looked up once per host.
func (inv *Inventory) HostName(ctx context.Context, ref types.ManagedObjectReference) (string, error) {
	return inv.objectName(ctx, "host", inv.hostNames, ref)
}

// DatastoreName returns the name of a datastore, looked up once per datastore.
func (inv *Inventory) DatastoreName(ctx context.Context, ref types.ManagedObjectReference) (string, error) {
	return inv.objectName(ctx, "datastore", inv.dsNames, ref)
}

// objectName reads a managed object's name once and caches it in names.
func (inv *Inventory) objectName(ctx context.Context, kind string, names map[types.ManagedObjectReference]string, ref types.ManagedObjectReference) (string, error) {
	return lookupIn(inv, kind+"-name/"+ref.Value, names, ref, func() (string, error) {
		var obj mo.ManagedEntity
		if err := property.DefaultCollector(inv.Session.Client).RetrieveOne(ctx, ref, []string{"name"}, &obj); err != nil {
			return "", fmt.Errorf("failed to read the name of %s %s: %w", kind, ref.Value, err)
		}
		return obj.Name, nil
	})
}

// Network returns the portgroup with the given name.
func (inv *Inventory) Network(ctx context.Context, name string) (object.NetworkReference, error) {
	return lookupIn(inv, "network/"+name, inv.networks, name, func() (object.NetworkReference, error) {
		finder := find.NewFinder(inv.Session.Client, false).SetDatacenter(inv.Datacenter)
		n, err := finder.Network(ctx, name)
		if err != nil {
			var nf *find.NotFoundError
			if errors.As(err, &nf) {
				return nil, fmt.Errorf("portgroup %q: %w", name, ErrNotFound)
			}
			return nil, fmt.Errorf("failed to find portgroup %q: %w", name, err)
		}
		return n, nil
	})
}

// DatastoreByURL returns the datastore whose summary.url is url (the
// datastoreURL parameter of a vSphere StorageClass).
func (inv *Inventory) DatastoreByURL(ctx context.Context, url string) (types.ManagedObjectReference, error) {
	// A miss re-lists: the datastore may have been added since the list was
	// taken. Misses are bad input, retried slowly, so this stays rare. One
	// list answers every URL, so concurrent misses share it.
	cached := func() (map[string]types.ManagedObjectReference, bool) {
		inv.mu.Lock()
		defer inv.mu.Unlock()
		_, ok := inv.datastores[url]
		return inv.datastores, ok
	}
	byURL, err := lookup(inv, "datastores", cached, func() (map[string]types.ManagedObjectReference, error) {
		return inv.listDatastores(ctx)
	})
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	if ref, ok := byURL[url]; ok {
		return ref, nil
	}
	return types.ManagedObjectReference{}, fmt.Errorf("datastore with URL %q: %w", url, ErrNotFound)
}

// listDatastores reads every datastore's summary.url and caches the list.
func (inv *Inventory) listDatastores(ctx context.Context) (map[string]types.ManagedObjectReference, error) {
	finder := find.NewFinder(inv.Session.Client, false).SetDatacenter(inv.Datacenter)
	list, err := finder.DatastoreList(ctx, "*")
	if err != nil {
		return nil, fmt.Errorf("failed to list datastores: %w", err)
	}
	refs := make([]types.ManagedObjectReference, 0, len(list))
	for _, ds := range list {
		refs = append(refs, ds.Reference())
	}
	var dss []mo.Datastore
	if err := property.DefaultCollector(inv.Session.Client).Retrieve(ctx, refs, []string{"summary.url"}, &dss); err != nil {
		return nil, fmt.Errorf("failed to read datastore URLs: %w", err)
	}
	byURL := map[string]types.ManagedObjectReference{}
	for _, ds := range dss {
		byURL[ds.Summary.Url] = ds.Self
	}
	inv.mu.Lock()
	inv.datastores = byURL
	inv.mu.Unlock()
	return byURL, nil
}

// NetworkBacking returns the NIC backing for the named portgroup.
func (inv *Inventory) NetworkBacking(ctx context.Context, name string) (types.BaseVirtualDeviceBackingInfo, error) {
	return lookupIn(inv, "backing/"+name, inv.backings, name, func() (types.BaseVirtualDeviceBackingInfo, error) {
		n, err := inv.Network(ctx, name)
		if err != nil {
			return nil, err
		}
		b, err := n.EthernetCardBackingInfo(ctx)
		if err != nil {
			return nil, fmt.Errorf("failed to get the NIC backing of portgroup %q: %w", name, err)
		}
		return b, nil
	})
}

// MinHostCPUMhz is the clock of the slowest host of the cluster; a vCPU
// reservation is expressed in it, as vm-operator does.
func (inv *Inventory) MinHostCPUMhz(ctx context.Context) (int64, error) {
	cached := func() (int64, bool) {
		inv.mu.Lock()
		defer inv.mu.Unlock()
		return inv.cpuMhz, inv.cpuMhz > 0
	}
	return lookup(inv, "cpu-mhz", cached, func() (int64, error) { return inv.readMinHostCPUMhz(ctx) })
}

// readMinHostCPUMhz reads the cluster's hosts' clocks and caches the slowest.
func (inv *Inventory) readMinHostCPUMhz(ctx context.Context) (int64, error) {
	var mhz int64
	pc := property.DefaultCollector(inv.Session.Client)
	var pool mo.ResourcePool
	if err := pc.RetrieveOne(ctx, inv.Pool.Reference(), []string{"owner"}, &pool); err != nil {
		return 0, fmt.Errorf("failed to read the owner of resource pool %s: %w", inv.Pool.Reference().Value, err)
	}
	var cluster mo.ComputeResource
	if err := pc.RetrieveOne(ctx, pool.Owner, []string{"host"}, &cluster); err != nil {
		return 0, fmt.Errorf("failed to read the hosts of cluster %s: %w", pool.Owner.Value, err)
	}
	var hosts []mo.HostSystem
	if len(cluster.Host) > 0 {
		if err := pc.Retrieve(ctx, cluster.Host, []string{"summary.hardware.cpuMhz"}, &hosts); err != nil {
			return 0, fmt.Errorf("failed to read host CPU clocks: %w", err)
		}
	}
	for _, h := range hosts {
		if h.Summary.Hardware != nil && (mhz == 0 || int64(h.Summary.Hardware.CpuMhz) < mhz) {
			mhz = int64(h.Summary.Hardware.CpuMhz)
		}
	}
	if mhz == 0 {
		return 0, fmt.Errorf("cluster %s reports no host CPU clock", pool.Owner.Value)
	}
	inv.mu.Lock()
	inv.cpuMhz = mhz
	inv.mu.Unlock()
	return mhz, nil
}
