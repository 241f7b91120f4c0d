package vsphere

import (
	"context"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/open-supervisor/supervisor/providers/vsphere/catalog"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/ipam"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
)

// Options configure the vSphere provider.
type Options struct {
	// VCenter says how to reach vCenter.
	VCenter session.Params
	// Inventory says where in vCenter VMs go.
	Inventory inventory.Config
	// DefaultNetwork is the WorkloadNetwork of VMs that name none.
	DefaultNetwork string
	// ContentLibrary is published as ClusterVirtualMachineImages ("" = none).
	ContentLibrary string
	// ImageSyncInterval is how often the library is re-read.
	ImageSyncInterval time.Duration
	// Concurrency is the number of VMs reconciled at once.
	Concurrency int
	// Sessions is the process's session cache; a new one when nil.
	Sessions *session.Cache
}

// Provider is the running vSphere provider.
type Provider struct {
	Sessions  *session.Cache
	Session   *session.Session
	Inventory *inventory.Inventory
	VMs       *virtualmachine.Reconciler
	Images    *catalog.ImageSync
}

// Setup logs in to vCenter and registers the VM service and the image
// catalog with the manager.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) (*Provider, error) {
	p := &Provider{Sessions: opts.Sessions}
	if p.Sessions == nil {
		p.Sessions = session.NewCache()
	}
	var err error
	if p.Session, err = p.Sessions.Get(ctx, opts.VCenter); err != nil {
		return nil, err
	}
	p.Inventory = inventory.New(p.Session, opts.Inventory)
	if err := p.Inventory.Init(ctx); err != nil {
		return nil, err
	}
	p.VMs = &virtualmachine.Reconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		Recorder:       mgr.GetEventRecorder("vmservice"),
		Inventory:      p.Inventory,
		IPAM:           &ipam.Allocator{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()},
		DefaultNetwork: opts.DefaultNetwork,
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 32
	}
	if err := p.VMs.SetupWithManager(ctx, mgr, controller.Options{MaxConcurrentReconciles: opts.Concurrency}); err != nil {
		return nil, fmt.Errorf("failed to set up the VM service: %w", err)
	}
	// Every replica exports the workload networks' address counts.
	if err := mgr.Add(&ipam.MetricsExporter{Reader: mgr.GetCache()}); err != nil {
		return nil, err
	}
	if opts.ContentLibrary != "" {
		p.Images = &catalog.ImageSync{Client: mgr.GetClient(), Session: p.Session, Library: opts.ContentLibrary, Interval: opts.ImageSyncInterval}
		if err := mgr.Add(p.Images); err != nil {
			return nil, err
		}
	}
	return p, nil
}
