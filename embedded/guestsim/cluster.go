package guestsim

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	inmemoryruntime "sigs.k8s.io/cluster-api/test/infrastructure/inmemory/pkg/runtime"
)

// guestCluster is one Cluster's guests. Its entry in Simulator.clusters is
// kept once made (a few bytes per Cluster ever seen): dropping it could
// race with a VM of the same Cluster arriving, and leave two guestClusters
// owning one resource group.
type guestCluster struct {
	key types.NamespacedName
	// name names both the resource group and the mux listener:
	// <namespace>/<name>, as Cluster API's in-memory provider does.
	name string

	// mu serialises boots and shutdowns within the cluster: they share the
	// etcd membership and the mux listener.
	mu sync.Mutex
	// created: the resource group and the listener exist (read without mu
	// by GuestClient).
	created atomic.Bool
	// upstream is the listener's host:port, where the proxies forward.
	upstream string
	// vms are the cluster's VMs that exist, booted or not, by name.
	vms map[string]*guestVM
}

// guestVM is what the simulator knows of one VM; guarded by its cluster's mu.
type guestVM struct {
	name         string
	controlPlane bool
	// bootable is when the VM was first seen powered on with an IP and
	// bootstrap data; zero while it is not.
	bootable time.Time
	// booted: the Node (and control-plane parts) exist, for address ip.
	booted bool
	ip     string
	proxy  *apiProxy
}

func newGuestCluster(key types.NamespacedName) *guestCluster {
	return &guestCluster{key: key, name: klog.KRef(key.Namespace, key.Name).String(), vms: map[string]*guestVM{}}
}

// vm returns the cluster's record of VM name, making it if needed; c.mu held.
func (c *guestCluster) vm(name string, controlPlane bool) *guestVM {
	v, ok := c.vms[name]
	if !ok {
		v = &guestVM{name: name}
		c.vms[name] = v
	}
	v.controlPlane = controlPlane
	return v
}

// closeProxies stops every TLS endpoint of the cluster (manager shutdown).
func (c *guestCluster) closeProxies() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.vms {
		if v.proxy != nil {
			v.proxy.Close()
			v.proxy = nil
		}
	}
}

// guestClient is the client of c's resource group; c must be created.
func (s *Simulator) guestClient(c *guestCluster) inmemoryruntime.Client {
	return s.runtime.GetResourceGroup(c.name).GetClient()
}

// ensureCreated makes c's resource group with the Namespaces every cluster
// has, and reserves its mux listener (bound with the first API server);
// c.mu held.
func (s *Simulator) ensureCreated(ctx context.Context, c *guestCluster) error {
	if c.created.Load() {
		return nil
	}
	s.runtime.AddResourceGroup(c.name)
	gc := s.guestClient(c)
	for _, name := range []string{metav1.NamespaceDefault, metav1.NamespacePublic, metav1.NamespaceSystem} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: name, Labels: map[string]string{corev1.LabelMetadataName: name},
		}}
		if err := gc.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("failed to create Namespace %s in guest cluster %s: %w", name, c.name, err)
		}
	}
	listener, err := s.mux.InitWorkloadClusterListener(c.name, 0)
	if err != nil {
		return fmt.Errorf("failed to reserve a listener for guest cluster %s: %w", c.name, err)
	}
	if err := s.mux.RegisterResourceGroup(c.name, c.name); err != nil {
		return fmt.Errorf("failed to register the resource group of guest cluster %s: %w", c.name, err)
	}
	c.upstream = listener.HostPort()
	c.created.Store(true)
	return nil
}

// removeIfEmpty deletes c's resource group and listener once it has no VMs
// left, and reports whether it did; c.mu held.
func (s *Simulator) removeIfEmpty(c *guestCluster) (bool, error) {
	if len(c.vms) > 0 || !c.created.Load() {
		return false, nil
	}
	c.created.Store(false)
	s.runtime.DeleteResourceGroup(c.name)
	if err := s.mux.DeleteWorkloadClusterListener(c.name); err != nil {
		return true, fmt.Errorf("failed to delete the listener of guest cluster %s: %w", c.name, err)
	}
	return true, nil
}
