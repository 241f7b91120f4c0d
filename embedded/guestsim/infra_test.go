package guestsim

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kwait "k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// fakeInfra plays the infrastructure provider and the VM service for the
// Machines of one namespace, as the contract asks and no more: once a
// Machine has bootstrap data, its VSphereMachine's VirtualMachine is created
// with the cluster labels and the bootstrap Secret, and reported powered on
// with an address; the VSphereMachine gets its providerID, addresses and
// provisioned.
type fakeInfra struct {
	namespace string
	// cpIP is the one control-plane VM's address, known in advance: it is
	// also the control-plane endpoint (no load balancer in this test).
	cpIP string

	mu sync.Mutex
	// ips are the addresses handed out, by VM name.
	ips      map[string]string
	nextHost int
}

func newFakeInfra(namespace, cpIP string) *fakeInfra {
	return &fakeInfra{namespace: namespace, cpIP: cpIP, ips: map[string]string{}, nextHost: 20}
}

// run provisions Machines every 100 ms until ctx ends; an error fails the
// test and stops it. It is a periodic worker, not a wait for a condition,
// so it runs on apimachinery's poll loop directly, whose condition's error
// ends the loop.
func (f *fakeInfra) run(ctx context.Context, t *testing.T) {
	err := kwait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return false, f.provisionAll(ctx)
	})
	if err != nil && ctx.Err() == nil {
		t.Errorf("fake infrastructure provider: %v", err)
	}
}

func (f *fakeInfra) provisionAll(ctx context.Context) error {
	machines := &clusterv1.MachineList{}
	if err := testClient.List(ctx, machines, client.InNamespace(f.namespace)); err != nil {
		return err
	}
	for i := range machines.Items {
		if err := f.provision(ctx, &machines.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeInfra) provision(ctx context.Context, m *clusterv1.Machine) error {
	if m.Spec.Bootstrap.DataSecretName == nil || !m.DeletionTimestamp.IsZero() {
		return nil
	}
	vsm := &vmwarev1.VSphereMachine{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Spec.InfrastructureRef.Name}, vsm); err != nil {
		return client.IgnoreNotFound(err)
	}
	if ptr.Deref(vsm.Status.Initialization.Provisioned, false) {
		return nil
	}
	vm := &vmopv1.VirtualMachine{}
	err := testClient.Get(ctx, client.ObjectKeyFromObject(vsm), vm)
	if apierrors.IsNotFound(err) {
		vm, err = f.createVM(ctx, m, vsm)
	}
	if err != nil {
		return err
	}
	if vm.Status.BiosUUID == "" {
		return nil // next round
	}
	base := vsm.DeepCopy()
	vsm.Spec.ProviderID = ProviderIDPrefix + vm.Status.BiosUUID
	if err := testClient.Patch(ctx, vsm, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("failed to set the providerID of VSphereMachine %s: %w", vsm.Name, err)
	}
	base = vsm.DeepCopy()
	vsm.Status.Initialization.Provisioned = ptr.To(true)
	vsm.Status.Addresses = []clusterv1.MachineAddress{{Type: clusterv1.MachineInternalIP, Address: vm.Status.Network.PrimaryIP4}}
	vsm.Status.Phase, vsm.Status.BiosUUID = vmwarev1.VSphereMachinePhaseReady, vm.Status.BiosUUID
	if err := testClient.Status().Patch(ctx, vsm, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("failed to mark VSphereMachine %s provisioned: %w", vsm.Name, err)
	}
	return nil
}

// createVM creates the VirtualMachine and reports it running, as the VM
// service would once vCenter has cloned and powered it on.
func (f *fakeInfra) createVM(ctx context.Context, m *clusterv1.Machine, vsm *vmwarev1.VSphereMachine) (*vmopv1.VirtualMachine, error) {
	role := vmwarev1.RoleNode
	if _, ok := m.Labels[clusterv1.MachineControlPlaneLabel]; ok {
		role = vmwarev1.RoleControlPlane
	}
	vm := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: vsm.Namespace, Name: vsm.Name,
			Labels: map[string]string{vmwarev1.ClusterNameLabel: m.Spec.ClusterName, vmwarev1.ClusterRoleLabel: role},
		},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: vsm.Spec.ImageName, ClassName: vsm.Spec.ClassName,
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{
				RawCloudConfig: &vmopv1.SecretKeySelector{Name: *m.Spec.Bootstrap.DataSecretName, Key: "value"},
			}},
		},
	}
	if err := testClient.Create(ctx, vm); err != nil {
		return nil, fmt.Errorf("failed to create VirtualMachine %s: %w", vm.Name, err)
	}
	return vm, setRunning(ctx, vm, f.ipFor(vm.Name, role))
}

// ipFor hands out the control-plane address or the next worker address.
func (f *fakeInfra) ipFor(vm, role string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ip, ok := f.ips[vm]; ok {
		return ip
	}
	ip := f.cpIP
	if role != vmwarev1.RoleControlPlane {
		ip = fmt.Sprintf("127.21.0.%d", f.nextHost)
		f.nextHost++
	}
	f.ips[vm] = ip
	return ip
}

// setRunning reports vm powered on at ip with a BIOS UUID derived from its UID.
func setRunning(ctx context.Context, vm *vmopv1.VirtualMachine, ip string) error {
	vm.Status.PowerState = vmopv1.VirtualMachinePowerStateOn
	vm.Status.BiosUUID = string(vm.UID)
	vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: ip}
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionTrue, Reason: "Ready"})
	if err := testClient.Status().Update(ctx, vm); err != nil {
		return fmt.Errorf("failed to report VirtualMachine %s running: %w", vm.Name, err)
	}
	return nil
}

// setPoweredOff reports vm powered off, its address gone.
func setPoweredOff(ctx context.Context, vm *vmopv1.VirtualMachine) error {
	vm.Status.PowerState = vmopv1.VirtualMachinePowerStateOff
	vm.Status.Network = nil
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse, Reason: "PoweredOff"})
	if err := testClient.Status().Update(ctx, vm); err != nil {
		return fmt.Errorf("failed to report VirtualMachine %s powered off: %w", vm.Name, err)
	}
	return nil
}
