package guestsim

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/secret"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// ProviderIDPrefix starts the providerID of every guest Node; the rest is
// the VM's BIOS UUID, as vSphere's cloud provider sets it.
const ProviderIDPrefix = "vsphere://"

// boot brings up what kubeadm init or join would on VM g at address ip:
// its Node and, on a control plane, the rest (bootControlPlane). Each step
// is idempotent, so a failed boot is retried as a whole. On a booted VM it
// only refreshes the API endpoint's certificate. c.mu held.
func (s *Simulator) boot(ctx context.Context, c *guestCluster, g *guestVM, vm *vmopv1.VirtualMachine, ip string) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	machine := &clusterv1.Machine{}
	if err := s.client.Get(ctx, client.ObjectKeyFromObject(vm), machine); err != nil {
		if apierrors.IsNotFound(err) {
			log.V(4).Info("Waiting for the Machine of the same name")
			return ctrl.Result{RequeueAfter: waitPoll}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get the Machine of VirtualMachine %s: %w", vm.Name, err)
	}
	endpoint := ""
	if g.controlPlane {
		cluster := &clusterv1.Cluster{}
		if err := s.client.Get(ctx, c.key, cluster); err != nil {
			if apierrors.IsNotFound(err) {
				log.V(4).Info("Waiting for the Cluster")
				return ctrl.Result{RequeueAfter: waitPoll}, nil
			}
			return ctrl.Result{}, fmt.Errorf("failed to get Cluster %s: %w", c.key, err)
		}
		endpoint = cluster.Spec.ControlPlaneEndpoint.Host
	}
	if g.booted {
		if g.controlPlane {
			return ctrl.Result{}, s.ensureProxy(ctx, c, g, endpoint)
		}
		return ctrl.Result{}, nil
	}

	if err := s.ensureCreated(ctx, c); err != nil {
		return ctrl.Result{}, err
	}
	g.ip = ip // from here on there may be something to shut down
	// Kubelets report the version Cluster API asked for: its Machines are
	// up to date only when they match.
	version := machine.Spec.Version
	node := newNode(vm.Name, ProviderIDPrefix+vm.Status.BiosUUID, version, ip, g.controlPlane)
	if err := createIfMissing(ctx, s.guestClient(c), node); err != nil {
		return ctrl.Result{}, err
	}
	if g.controlPlane {
		if err := s.bootControlPlane(ctx, c, g, version, endpoint); err != nil {
			return ctrl.Result{}, err
		}
	}
	g.booted = true
	log.Info("Guest booted", "node", vm.Name, "address", ip, "controlPlane", g.controlPlane)
	return ctrl.Result{}, nil
}

// bootControlPlane starts a control-plane node's static Pods, registers its
// etcd member and API server with the mux, writes kubeadm's cluster objects
// and opens the API endpoint on the VM's address. The API server goes last
// but one, so that KubeadmControlPlane, once it can connect, finds a
// complete member. c.mu held.
func (s *Simulator) bootControlPlane(ctx context.Context, c *guestCluster, g *guestVM, version, endpoint string) error {
	gc := s.guestClient(c)
	clusterCA, err := loadCA(ctx, s.reader, c.key, secret.ClusterCA)
	if err != nil {
		return err
	}
	etcdCA, err := loadCA(ctx, s.reader, c.key, secret.EtcdCA)
	if err != nil {
		return err
	}
	if err := joinEtcd(ctx, gc, g.name); err != nil {
		return err
	}
	if etcd := staticPodName(componentEtcd, g.name); !s.mux.HasEtcdMember(c.name, etcd) {
		if err := s.mux.AddEtcdMember(c.name, etcd, etcdCA.cert, etcdCA.key); err != nil {
			return fmt.Errorf("failed to add etcd member %s to guest cluster %s: %w", etcd, c.name, err)
		}
	}
	for _, component := range staticPodComponents[1:] {
		if err := createIfMissing(ctx, gc, newStaticPod(component, g.name)); err != nil {
			return err
		}
	}
	for _, obj := range clusterObjects(version) {
		if err := createIfMissing(ctx, gc, obj); err != nil {
			return err
		}
	}
	if api := staticPodName(componentAPIServer, g.name); !s.mux.HasAPIServer(c.name, api) {
		// The first one binds the cluster's mux listener.
		if err := s.mux.AddAPIServer(c.name, api, clusterCA.cert, clusterCA.key); err != nil {
			return fmt.Errorf("failed to add API server %s to guest cluster %s: %w", api, c.name, err)
		}
	}
	return s.ensureProxy(ctx, c, g, endpoint)
}

// ensureProxy opens g's API endpoint, or renews its certificate if the
// control-plane endpoint changed; c.mu held.
func (s *Simulator) ensureProxy(ctx context.Context, c *guestCluster, g *guestVM, endpoint string) error {
	hosts := []string{g.ip}
	if endpoint != "" && endpoint != g.ip {
		hosts = append(hosts, endpoint)
	}
	slices.Sort(hosts)
	if g.proxy != nil && g.proxy.sameHosts(hosts) {
		return nil
	}
	ca, err := loadCA(ctx, s.reader, c.key, secret.ClusterCA)
	if err != nil {
		return err
	}
	cert, err := servingCert(ca, hosts...)
	if err != nil {
		return err
	}
	if g.proxy != nil {
		g.proxy.setCert(hosts, cert)
		return nil
	}
	addr := net.JoinHostPort(g.ip, strconv.Itoa(APIServerPort))
	// The endpoint outlives this reconcile: log without its keys.
	log := ctrl.Log.WithName("guestsim").WithName("apiproxy").WithValues("guestCluster", c.name, "address", addr)
	g.proxy, err = startProxy(log, addr, c.upstream, ca.cert, hosts, cert)
	if err != nil {
		return fmt.Errorf("failed to open the API endpoint of guest %s: %w", g.name, err)
	}
	return nil
}

// shutdown removes what g's boot made, as far as it got: the endpoint, the
// Node and, on a control plane, the static Pods, the etcd member (another
// takes the lead) and the API server (the last one closes the mux
// listener). c.mu held.
func (s *Simulator) shutdown(ctx context.Context, c *guestCluster, g *guestVM) error {
	if g.proxy != nil {
		g.proxy.Close()
		g.proxy = nil
	}
	if g.ip == "" || !c.created.Load() {
		g.booted, g.ip = false, ""
		return nil
	}
	gc := s.guestClient(c)
	node := newNode(g.name, "", "", "", false)
	if err := deleteIfPresent(ctx, gc, node); err != nil {
		return err
	}
	if g.controlPlane {
		if err := leaveEtcd(ctx, gc, g.name); err != nil {
			return err
		}
		if err := s.mux.DeleteEtcdMember(c.name, staticPodName(componentEtcd, g.name)); err != nil {
			return fmt.Errorf("failed to remove the etcd member of %s: %w", g.name, err)
		}
		for _, component := range staticPodComponents[1:] {
			if err := deleteIfPresent(ctx, gc, newStaticPod(component, g.name)); err != nil {
				return err
			}
		}
		if err := s.mux.DeleteAPIServer(c.name, staticPodName(componentAPIServer, g.name)); err != nil {
			return fmt.Errorf("failed to remove the API server of %s: %w", g.name, err)
		}
	}
	ctrl.LoggerFrom(ctx).Info("Guest shut down", "node", g.name, "booted", g.booted)
	g.booted, g.ip = false, ""
	return nil
}
