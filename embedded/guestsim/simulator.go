package guestsim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	inmemoryruntime "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/runtime"
	inmemoryserver "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/server"
)

// muxHost is where the mux's listeners are dialled (they bind all
// interfaces) and the address its API serving certificate names; the TLS
// proxies forward there.
const muxHost = "127.0.0.1"

// Simulator boots and shuts down guests as their VirtualMachines come and go.
// It is a manager.Runnable (the in-memory runtime and the mux live as long
// as the manager) and the VirtualMachine reconciler.
type Simulator struct {
	client client.Client
	// reader reads Secrets live: the manager's cache may hold only some of
	// them, and without data.
	reader client.Reader
	opts   Options

	// started is closed once runtime and mux are up; reconciles wait for it.
	started chan struct{}
	runtime inmemoryruntime.Manager
	mux     *inmemoryserver.WorkloadClustersMux

	mu sync.Mutex
	// clusters holds the guest clusters with at least one known VM, by
	// Cluster key.
	clusters map[types.NamespacedName]*guestCluster
	// vms maps a known VM to its cluster, so that a deleted VM (whose labels
	// are gone with it) can be shut down.
	vms map[types.NamespacedName]*guestCluster
}

// Setup registers a Simulator with mgr: the runtime that starts with the
// manager and the VirtualMachine controller. mgr's scheme must hold the
// VirtualMachine and Cluster API types (api.NewScheme).
func Setup(mgr ctrl.Manager, opts Options) (*Simulator, error) {
	opts, err := opts.defaulted()
	if err != nil {
		return nil, err
	}
	s := &Simulator{
		client:   mgr.GetClient(),
		reader:   mgr.GetAPIReader(),
		opts:     opts,
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

// Start runs the in-memory runtime and the mux until ctx ends, then stops
// every guest.
func (s *Simulator) Start(ctx context.Context) error {
	s.runtime = inmemoryruntime.NewManager(newGuestScheme())
	if err := s.runtime.Start(ctx); err != nil {
		return fmt.Errorf("failed to start the in-memory runtime: %w", err)
	}
	// DebugPort 0: Cluster API's default 19000 would clash between
	// processes, and a failed debug server panics.
	mux, err := inmemoryserver.NewWorkloadClustersMux(s.runtime, muxHost, inmemoryserver.CustomPorts{
		MinPort: s.opts.MinPort, MaxPort: s.opts.MaxPort, DebugPort: 0,
	})
	if err != nil {
		return fmt.Errorf("failed to start the workload clusters mux: %w", err)
	}
	s.mux = mux
	close(s.started)
	<-ctx.Done()

	// Proxies are closed without s.mu: forget takes a cluster's lock first.
	s.mu.Lock()
	clusters := make([]*guestCluster, 0, len(s.clusters))
	for _, c := range s.clusters {
		clusters = append(clusters, c)
	}
	s.mu.Unlock()
	for _, c := range clusters {
		c.closeProxies()
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return s.mux.Shutdown(shutdownCtx)
}

// NeedLeaderElection: guests run whether or not this replica leads; only
// the leader's controller boots new ones.
func (s *Simulator) NeedLeaderElection() bool { return false }

// waitStarted returns once Start has set up the runtime and the mux.
func (s *Simulator) waitStarted(ctx context.Context) error {
	select {
	case <-s.started:
		return nil
	case <-ctx.Done():
		return errors.New("the guest simulator did not start")
	}
}

// GuestClient returns a client of the in-memory objects of Cluster
// namespace/name's guest cluster, or false if it has no VMs yet or any more.
func (s *Simulator) GuestClient(cluster types.NamespacedName) (inmemoryruntime.Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[cluster]
	if !ok || !c.created.Load() {
		return nil, false
	}
	return s.runtime.GetResourceGroup(c.name).GetClient(), true
}

// newGuestScheme holds what the in-memory API server serves, as for
// Cluster API's in-memory provider.
func newGuestScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, rbacv1.AddToScheme, storagev1.AddToScheme,
		apiextensionsv1.AddToScheme, policyv1.AddToScheme,
	} {
		utilruntime.Must(add(s))
	}
	return s
}
