package guestsim

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/embedded/kube"
)

// Simulator boots and shuts down guests as their VirtualMachines come and go.
// It is a manager.Runnable (the guests' processes live as long as the
// manager) and the VirtualMachine reconciler.
type Simulator struct {
	client client.Client
	// reader reads Secrets live: the manager's cache may hold only some of
	// them, and without data.
	reader client.Reader
	opts   Options
	assets string
	ports  *portRange

	// started is closed once Start runs; reconciles wait for it.
	started chan struct{}

	mu sync.Mutex
	// clusters holds the guest clusters with at least one known VM, by
	// Cluster key.
	clusters map[types.NamespacedName]*guestCluster
	// vms maps a known VM to its cluster, so that a deleted VM (whose labels
	// are gone with it) can be shut down.
	vms map[types.NamespacedName]*guestCluster
}

// Setup registers a Simulator with mgr: the runnable that stops the guests
// with the manager, and the VirtualMachine controller. mgr's scheme must
// hold the VirtualMachine and Cluster API types (api.NewScheme).
func Setup(mgr ctrl.Manager, opts Options) (*Simulator, error) {
	opts, err := opts.defaulted()
	if err != nil {
		return nil, err
	}
	assets := opts.AssetsDir
	if assets == "" {
		if assets, err = kube.FindAssets(); err != nil {
			return nil, err
		}
	}
	s := &Simulator{
		client:   mgr.GetClient(),
		reader:   mgr.GetAPIReader(),
		opts:     opts,
		assets:   assets,
		ports:    &portRange{min: opts.MinPort, max: opts.MaxPort},
		started:  make(chan struct{}),
		clusters: map[types.NamespacedName]*guestCluster{},
		vms:      map[types.NamespacedName]*guestCluster{},
	}
	if err := mgr.Add(s); err != nil {
		return nil, fmt.Errorf("failed to add the guest simulator to the manager: %w", err)
	}
	if err := s.setupController(mgr); err != nil {
		return nil, err
	}
	return s, nil
}

// Start runs until ctx ends, then stops every guest: their processes end
// with the manager (their data stays in etcd, as a VM's disk would).
func (s *Simulator) Start(ctx context.Context) error {
	close(s.started)
	<-ctx.Done()
	s.mu.Lock()
	clusters := make([]*guestCluster, 0, len(s.clusters))
	for _, c := range s.clusters {
		clusters = append(clusters, c)
	}
	s.mu.Unlock()
	var errs []error
	for _, c := range clusters {
		errs = append(errs, c.powerOffAll(context.WithoutCancel(ctx)))
	}
	return errors.Join(errs...)
}

// NeedLeaderElection: guests run whether or not this replica leads.
func (s *Simulator) NeedLeaderElection() bool { return false }

// waitStarted returns once Start runs.
func (s *Simulator) waitStarted(ctx context.Context) error {
	select {
	case <-s.started:
		return nil
	case <-ctx.Done():
		return errors.New("the guest simulator did not start")
	}
}

// GuestConfig returns a cluster-admin client configuration of Cluster
// namespace/name's guest API server, straight to its loopback address,
// or false while it does not run.
func (s *Simulator) GuestConfig(cluster types.NamespacedName) (*rest.Config, bool) {
	s.mu.Lock()
	c, ok := s.clusters[cluster]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cp == nil {
		return nil, false
	}
	return rest.CopyConfig(c.cp.admin), true
}
