package guestsim

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"sigs.k8s.io/cluster-api/util/conditions"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta1"
)

// waitPoll is how often a VM waiting for something the simulator does not
// watch (its bootstrap Secret, Machine or Cluster) is looked at again.
const waitPoll = time.Second

func (s *Simulator) setupController(mgr ctrl.Manager) error {
	hasCluster := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[vmwarev1.ClusterNameLabel] != ""
	})
	err := ctrl.NewControllerManagedBy(mgr).
		For(&vmopv1.VirtualMachine{}, builder.WithPredicates(hasCluster)).
		Named("guestsim").
		WithOptions(controller.Options{MaxConcurrentReconciles: s.opts.Concurrency}).
		Complete(s)
	if err != nil {
		return fmt.Errorf("failed to set up the guest simulator's controller: %w", err)
	}
	return nil
}

// Reconcile boots the guest of a VM that runs, and shuts down the guest of
// one that no longer does.
func (s *Simulator) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if err := s.waitStarted(ctx); err != nil {
		return ctrl.Result{}, err
	}
	vm := &vmopv1.VirtualMachine{}
	if err := s.client.Get(ctx, req.NamespacedName, vm); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, s.forget(ctx, req.NamespacedName)
		}
		return ctrl.Result{}, err
	}
	clusterName := vm.Labels[vmwarev1.ClusterNameLabel]
	if clusterName == "" || !vm.DeletionTimestamp.IsZero() {
		// Being deleted: vCenter powers it off and destroys it.
		return ctrl.Result{}, s.forget(ctx, req.NamespacedName)
	}
	clusterKey := types.NamespacedName{Namespace: vm.Namespace, Name: clusterName}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("Cluster", klog.KRef(vm.Namespace, clusterName)))

	c, err := s.track(ctx, req.NamespacedName, clusterKey)
	if err != nil {
		return ctrl.Result{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.vm(vm.Name, vm.Labels[vmwarev1.ClusterRoleLabel] == vmwarev1.RoleControlPlane)

	ip, ok := running(vm)
	if !ok || (g.ip != "" && g.ip != ip) {
		// Off, or readdressed: what ran there is gone.
		g.bootable = time.Time{}
		if err := s.shutdown(ctx, c, g); err != nil {
			return ctrl.Result{}, err
		}
		if !ok {
			return ctrl.Result{}, nil
		}
	}
	if !g.booted {
		ready, err := s.hasBootstrapData(ctx, vm)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !ready {
			return ctrl.Result{RequeueAfter: waitPoll}, nil
		}
		if wait := s.untilBooted(vm, g); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
	}
	return s.boot(ctx, c, g, vm, ip)
}

// running returns the VM's IPv4 address if it is powered on with one and a
// BIOS UUID (its providerID), as the VM service reports once VMware Tools
// has the guest's address.
func running(vm *vmopv1.VirtualMachine) (string, bool) {
	if vm.Status.PowerState != vmopv1.VirtualMachinePowerStateOn || vm.Status.BiosUUID == "" ||
		vm.Status.Network == nil || vm.Status.Network.PrimaryIP4 == "" {
		return "", false
	}
	return vm.Status.Network.PrimaryIP4, true
}

// hasBootstrapData reports whether the cloud-init user data the VM was given
// exists: without it cloud-init would run nothing.
func (s *Simulator) hasBootstrapData(ctx context.Context, vm *vmopv1.VirtualMachine) (bool, error) {
	if vm.Spec.Bootstrap == nil || vm.Spec.Bootstrap.CloudInit == nil || vm.Spec.Bootstrap.CloudInit.RawCloudConfig == nil {
		ctrl.LoggerFrom(ctx).V(4).Info("Waiting for bootstrap data on the VirtualMachine")
		return false, nil
	}
	ref := vm.Spec.Bootstrap.CloudInit.RawCloudConfig
	sec := &corev1.Secret{}
	if err := s.reader.Get(ctx, types.NamespacedName{Namespace: vm.Namespace, Name: ref.Name}, sec); err != nil {
		if apierrors.IsNotFound(err) {
			ctrl.LoggerFrom(ctx).V(4).Info("Waiting for the bootstrap Secret", "Secret", klog.KRef(vm.Namespace, ref.Name))
			return false, nil
		}
		return false, fmt.Errorf("failed to get bootstrap Secret %s of VirtualMachine %s: %w", ref.Name, klog.KObj(vm), err)
	}
	return len(sec.Data[ref.Key]) > 0, nil
}

// untilBooted returns how long the VM still takes to boot. It boots
// BootDelay after it was first seen running, or after its Ready condition
// turned True if that was earlier (a restarted simulator finds guests that
// have long been up).
func (s *Simulator) untilBooted(vm *vmopv1.VirtualMachine, g *guestVM) time.Duration {
	now := time.Now()
	if g.bootable.IsZero() {
		g.bootable = now
	}
	start := g.bootable
	if ready := conditions.Get(vm, vmopv1.VirtualMachineConditionReady); ready != nil &&
		ready.Status == "True" && ready.LastTransitionTime.Time.Before(start) {
		start = ready.LastTransitionTime.Time
	}
	return start.Add(s.opts.BootDelay).Sub(now)
}

// track records that VM vmKey belongs to clusterKey's guest cluster.
func (s *Simulator) track(ctx context.Context, vmKey, clusterKey types.NamespacedName) (*guestCluster, error) {
	s.mu.Lock()
	prev := s.vms[vmKey]
	s.mu.Unlock()
	if prev != nil && prev.key != clusterKey {
		// Relabelled into another cluster: leave the old one first.
		if err := s.forget(ctx, vmKey); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[clusterKey]
	if !ok {
		c = newGuestCluster(clusterKey)
		s.clusters[clusterKey] = c
	}
	s.vms[vmKey] = c
	return c, nil
}

// forget shuts down a VM that is gone and, with the cluster's last
// control-plane VM, removes the guest cluster.
func (s *Simulator) forget(ctx context.Context, vmKey types.NamespacedName) error {
	s.mu.Lock()
	c := s.vms[vmKey]
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.vms[vmKey.Name]; ok {
		if err := s.remove(ctx, c, g); err != nil {
			return err
		}
	}
	s.mu.Lock()
	delete(s.vms, vmKey)
	s.mu.Unlock()
	return nil
}
