package guestsim

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/open-supervisor/supervisor/internal/tcpproxy"
)

// guestCluster is one Cluster's guests. Its entry in Simulator.clusters is
// kept once made (a few bytes per Cluster ever seen): dropping it could
// race with a VM of the same Cluster arriving, and leave two guestClusters
// owning one API server.
type guestCluster struct {
	key types.NamespacedName
	// name is <namespace>/<name>, for logs.
	name string

	// mu serialises boots and shutdowns within the cluster: they share the
	// control plane and the etcd membership.
	mu sync.Mutex
	// cp is the guest's API server and controller manager while a
	// control-plane VM runs; nil otherwise.
	cp *controlPlane
	// etcd is the simulated etcd membership, from the first control-plane
	// boot until the last control-plane VM is gone.
	etcd *etcdCluster
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
	// endpoint forwards a control plane's <ip>:6443 to the API server.
	endpoint *tcpproxy.Forwarder
	kubelet  *kubelet
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

// controlPlaneIPs are the addresses of the booted control-plane VMs; c.mu held.
func (c *guestCluster) controlPlaneIPs() []string {
	var ips []string
	for _, v := range c.vms {
		if v.controlPlane && v.booted {
			ips = append(ips, v.ip)
		}
	}
	return ips
}

// hasControlPlaneVM reports whether a control-plane VM exists, running or
// not; c.mu held.
func (c *guestCluster) hasControlPlaneVM() bool {
	for _, v := range c.vms {
		if v.controlPlane {
			return true
		}
	}
	return false
}

// stopVM stops what runs on v (manager shutdown or power-off); c.mu held.
func (v *guestVM) stopVM() {
	if v.endpoint != nil {
		v.endpoint.Close()
		v.endpoint = nil
	}
	if v.kubelet != nil {
		v.kubelet.stop()
		v.kubelet = nil
	}
}

// powerOffAll stops every guest of the cluster and its control plane,
// keeping its data (manager shutdown).
func (c *guestCluster) powerOffAll(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.vms {
		v.stopVM()
		v.booted, v.ip = false, ""
	}
	var errs []error
	if c.cp != nil {
		errs = append(errs, c.cp.stop(ctx, false, nil))
		c.cp = nil
	}
	if c.etcd != nil {
		c.etcd.close()
		c.etcd = nil
	}
	return errors.Join(errs...)
}
