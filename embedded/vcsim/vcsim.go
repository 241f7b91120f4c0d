package vcsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net/url"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/pbm"
	pbmtypes "github.com/vmware/govmomi/pbm/types"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	_ "github.com/vmware/govmomi/pbm/simulator"  // storage policy endpoint
	_ "github.com/vmware/govmomi/vapi/simulator" // content library and OVF deploy endpoints

	"github.com/open-supervisor/supervisor/templates"
)

// Names of the inventory objects.
const (
	Datacenter          = "DC0"
	Cluster             = "DC0_C0"
	ManagementPortGroup = "management"
	WorkloadPortGroup   = "workload"
	ContentLibrary      = "kubernetes"
	Username            = "administrator@vsphere.local"
	// StoragePolicy is the storage policy vSphere Namespaces get; its
	// StorageClass is named the same.
	StoragePolicy = "k8s-storage"
)

// Options tune the simulator.
type Options struct {
	// Password for Username; random when empty.
	Password string
	// Listen is host:port; 127.0.0.1:0 when empty.
	Listen string
	// NodeImages are the content library's items, by name;
	// templates.NodeImages when nil.
	NodeImages []string
	// BootDelay is how long the simulated guest takes to report its IP.
	BootDelay time.Duration
	// Users are vCenter users besides the administrator, by user@domain,
	// with their passwords: logins check them.
	Users map[string]string
}

// Simulator is a running vcsim with its inventory.
type Simulator struct {
	Model  *simulator.Model
	Server *simulator.Server
	// URL is the SDK URL without credentials.
	URL      *url.URL
	Username string
	Password string
	// CAFile holds the simulator's certificate, to verify TLS against.
	CAFile string
	// DatastoreURL is the datastore's summary.url (a StorageClass parameter).
	DatastoreURL string
	// StoragePolicyID is the id of StoragePolicy.
	StoragePolicyID string
	// Client is an admin client for tests to inspect and poke vCenter with.
	Client *govmomi.Client
	// Guest simulates guests reporting their IPs.
	Guest *Guest
}

// Start builds the inventory and serves it until Stop.
func Start(ctx context.Context, opts Options) (*Simulator, error) {
	if opts.Password == "" {
		opts.Password = randomPassword()
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.NodeImages == nil {
		opts.NodeImages = templates.NodeImages
	}
	m := simulator.VPX()
	m.Host = 0
	m.Cluster = 1
	m.ClusterHost = 3
	m.Datastore = 1
	m.Machine = 0
	m.Portgroup = 1
	m.Autostart = false
	m.ServiceContent.About.Version = aboutVersion
	m.ServiceContent.About.ApiVersion = aboutAPIVersion
	if err := m.Create(); err != nil {
		return nil, fmt.Errorf("failed to create the vcsim model: %w", err)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.RegisterEndpoints = true
	m.Service.Listen = &url.URL{Host: opts.Listen, User: url.UserPassword(Username, opts.Password)}
	users := maps.Clone(opts.Users)
	m.Map().SessionManager().ValidLogin = func(req *types.Login) bool {
		if req.UserName == Username {
			return req.Password == opts.Password
		}
		password, ok := users[req.UserName]
		return ok && password != "" && req.Password == password
	}
	server := m.Service.NewServer()

	sim := &Simulator{Model: m, Server: server, Username: Username, Password: opts.Password}
	u := *server.URL
	u.User = nil
	sim.URL = &u
	var err error
	if sim.CAFile, err = server.CertificateFile(); err != nil {
		sim.Stop()
		return nil, fmt.Errorf("failed to write the vcsim certificate: %w", err)
	}
	if err := sim.build(ctx, opts); err != nil {
		sim.Stop()
		return nil, err
	}
	if err := sim.shareSOAPSessions(ctx); err != nil {
		sim.Stop()
		return nil, err
	}
	sim.Guest = newGuest(sim.Client.Client, opts.BootDelay)
	m.Map().AddHandler(sim.Guest)
	return sim, nil
}

// Stop shuts the simulator down.
func (s *Simulator) Stop() {
	if s.Client != nil {
		_ = s.Client.Logout(context.Background())
	}
	// A long poll (WaitForUpdatesEx) nobody cancelled holds Close forever;
	// give up waiting for it rather than hang the caller.
	s.Server.CloseClientConnections()
	closed := make(chan struct{})
	go func() { s.Server.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
	}
	s.Model.Remove()
}

// shareSOAPSessions makes the vAPI endpoints take SOAP sessions, as
// vCenter 8.0 U3 does.
func (s *Simulator) shareSOAPSessions(ctx context.Context) error {
	sc := soap.NewClient(s.URL, false)
	if err := sc.SetRootCAs(s.CAFile); err != nil {
		return err
	}
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return fmt.Errorf("failed to connect to vcsim: %w", err)
	}
	shareSOAPSessions(s.Model.Service.ServeMux, c)
	return nil
}

func (s *Simulator) build(ctx context.Context, opts Options) error {
	u := *s.URL
	u.User = url.UserPassword(s.Username, s.Password)
	sc := soap.NewClient(&u, false)
	if err := sc.SetRootCAs(s.CAFile); err != nil {
		return err
	}
	// The simulated guests boot every VM of a burst at once through this
	// client: with net/http's default of 2 idle connections, all but two of
	// those calls dialed (and vcsim, in the same process, accepted) a new
	// TLS connection.
	sc.DefaultTransport().MaxIdleConnsPerHost = 64
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return fmt.Errorf("failed to connect to vcsim: %w", err)
	}
	vc := &govmomi.Client{Client: c, SessionManager: session.NewManager(c)}
	if err := vc.Login(ctx, u.User); err != nil {
		return fmt.Errorf("failed to log in to vcsim: %w", err)
	}
	s.Client = vc

	finder := find.NewFinder(vc.Client, false)
	dc, err := finder.Datacenter(ctx, Datacenter)
	if err != nil {
		return err
	}
	finder.SetDatacenter(dc)
	dvsRef, err := finder.Network(ctx, "DVS0")
	if err != nil {
		return fmt.Errorf("failed to find DVS0: %w", err)
	}
	dvs := dvsRef.(*object.DistributedVirtualSwitch)
	task, err := dvs.AddPortgroup(ctx, []types.DVPortgroupConfigSpec{
		{Name: ManagementPortGroup, Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding), NumPorts: 128},
		{Name: WorkloadPortGroup, Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding), NumPorts: 4096},
	})
	if err == nil {
		err = task.WaitEx(ctx)
	}
	if err != nil {
		return fmt.Errorf("failed to add portgroups: %w", err)
	}

	ds, err := finder.DefaultDatastore(ctx)
	if err != nil {
		return err
	}
	var dsmo mo.Datastore
	if err := property.DefaultCollector(vc.Client).RetrieveOne(ctx, ds.Reference(), []string{"summary.url"}, &dsmo); err != nil {
		return err
	}
	s.DatastoreURL = dsmo.Summary.Url
	if s.StoragePolicyID, err = createStoragePolicy(ctx, vc.Client); err != nil {
		return err
	}
	return s.fillLibrary(ctx, ds.Reference().Value, opts.NodeImages)
}

// fillLibrary creates the content library with one OVF item per node image.
func (s *Simulator) fillLibrary(ctx context.Context, datastoreID string, items []string) error {
	rc := rest.NewClient(s.Client.Client)
	if err := rc.Login(ctx, url.UserPassword(s.Username, s.Password)); err != nil {
		return fmt.Errorf("failed to log in to the vcsim REST API: %w", err)
	}
	defer func() { _ = rc.Logout(ctx) }()
	m := library.NewManager(rc)
	libID, err := m.CreateLibrary(ctx, library.Library{
		Name:    ContentLibrary,
		Type:    "LOCAL",
		Storage: []library.StorageBacking{{DatastoreID: datastoreID, Type: "DATASTORE"}},
	})
	if err != nil {
		return fmt.Errorf("failed to create content library: %w", err)
	}
	for _, item := range items {
		if err := uploadOVF(ctx, m, libID, item, templates.NodeImageOVF(item)); err != nil {
			return err
		}
	}
	return nil
}

func uploadOVF(ctx context.Context, m *library.Manager, libID, name string, ovf []byte) error {
	itemID, err := m.CreateLibraryItem(ctx, library.Item{Name: name, Type: library.ItemTypeOVF, LibraryID: libID})
	if err != nil {
		return fmt.Errorf("failed to create library item %s: %w", name, err)
	}
	session, err := m.CreateLibraryItemUpdateSession(ctx, library.Session{LibraryItemID: itemID})
	if err != nil {
		return err
	}
	info := library.UpdateFile{Name: name + ".ovf", SourceType: "PUSH", Size: int64(len(ovf))}
	update, err := m.AddLibraryItemFile(ctx, session, info)
	if err != nil {
		return err
	}
	u, err := url.Parse(update.UploadEndpoint.URI)
	if err != nil {
		return err
	}
	p := soap.DefaultUpload
	p.ContentLength = info.Size
	if err := m.Client.Upload(ctx, bytes.NewReader(ovf), u, &p); err != nil {
		return fmt.Errorf("failed to upload %s: %w", name, err)
	}
	return m.CompleteLibraryItemUpdateSession(ctx, session)
}

// createStoragePolicy creates StoragePolicy, a policy with no
// requirements (every datastore is compatible).
func createStoragePolicy(ctx context.Context, c *vim25.Client) (string, error) {
	pc, err := pbm.NewClient(ctx, c)
	if err != nil {
		return "", fmt.Errorf("failed to reach the storage policy service: %w", err)
	}
	id, err := pc.CreateProfile(ctx, pbmtypes.PbmCapabilityProfileCreateSpec{
		Name:             StoragePolicy,
		Description:      "Storage for vSphere Namespaces",
		Category:         string(pbmtypes.PbmProfileCategoryEnumREQUIREMENT),
		ResourceType:     pbmtypes.PbmProfileResourceType{ResourceType: string(pbmtypes.PbmProfileResourceTypeEnumSTORAGE)},
		Constraints:      &pbmtypes.PbmCapabilitySubProfileConstraints{},
		K8sCompliantName: StoragePolicy,
	})
	if err != nil {
		return "", fmt.Errorf("failed to create the %s storage policy: %w", StoragePolicy, err)
	}
	return id.UniqueId, nil
}
