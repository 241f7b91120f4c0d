package infrastructure

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// A VSphereMachine becomes a VirtualMachine with what CAPV passes on
// (the power-off mode, in its spelling), and reports its VM as CAPV
// does: phase Pending, then once powered on with an IP, phase Ready, the
// BIOS UUID, provisioned, and True VirtualMachineProvisioned, Ready and
// (for v1beta1 readers) VMProvisioned.
func TestMachineReportsWhatCAPVReports(t *testing.T) {
	ctx := context.Background()
	scheme := api.NewScheme()
	cluster := &clusterv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "guest"},
		Status:     clusterv1.ClusterStatus{Initialization: clusterv1.ClusterInitializationStatus{InfrastructureProvisioned: ptr.To(true)}},
	}
	machine := &clusterv1.Machine{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "w-0", UID: "m-uid", Labels: map[string]string{clusterv1.ClusterNameLabel: "guest"}},
		Spec:       clusterv1.MachineSpec{ClusterName: "guest", Bootstrap: clusterv1.Bootstrap{DataSecretName: ptr.To("w-0-bootstrap")}},
	}
	vsm := &vmwarev1.VSphereMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "w-0", Labels: map[string]string{clusterv1.ClusterNameLabel: "guest"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: clusterv1.GroupVersion.String(), Kind: "Machine", Name: "w-0", UID: "m-uid"}}},
		Spec: vmwarev1.VSphereMachineSpec{ImageName: "img", ClassName: "best-effort-small",
			PowerOffMode: vmwarev1.VirtualMachinePowerOpModeTrySoft},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cluster, machine, vsm).WithStatusSubresource(vsm, &vmopv1.VirtualMachine{}).Build()
	r := &MachineReconciler{Client: c}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(vsm)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	vm := &vmopv1.VirtualMachine{}
	if err := c.Get(ctx, req.NamespacedName, vm); err != nil {
		t.Fatal(err)
	}
	if vm.Spec.PowerOffMode != "TrySoft" {
		t.Errorf("VirtualMachine powerOffMode %q; want TrySoft", vm.Spec.PowerOffMode)
	}
	if err := c.Get(ctx, req.NamespacedName, vsm); err != nil {
		t.Fatal(err)
	}
	if vsm.Status.Phase != vmwarev1.VSphereMachinePhasePending || conditions.IsTrue(vsm, vmwarev1.VSphereMachineReadyCondition) {
		t.Errorf("before the VM exists: phase %q, conditions %+v; want Pending, not Ready", vsm.Status.Phase, vsm.Status.Conditions)
	}

	vm.Status.PowerState = vmopv1.VirtualMachinePowerStateOn
	vm.Status.BiosUUID = "4203c3b4"
	vm.Status.Network = &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: "10.0.0.5", Interfaces: []vmopv1.VirtualMachineNetworkInterfaceStatus{
		{IP: &vmopv1.VirtualMachineNetworkInterfaceIPStatus{MACAddr: "00:50:56:aa:bb:cc", Addresses: []vmopv1.VirtualMachineNetworkInterfaceIPAddrStatus{{Address: "10.0.0.5/24", Origin: "manual"}}}},
		{}, // nothing observed: left out, CAPV's schema refuses an empty interface
	}}
	if err := c.Status().Update(ctx, vm); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, req.NamespacedName, vsm); err != nil {
		t.Fatal(err)
	}
	if vsm.Status.Phase != vmwarev1.VSphereMachinePhaseReady || vsm.Status.BiosUUID != "4203c3b4" || vsm.Spec.ProviderID != "vsphere://4203c3b4" ||
		!ptr.Deref(vsm.Status.Initialization.Provisioned, false) || len(vsm.Status.Addresses) == 0 || vsm.Status.Addresses[0].Address != "10.0.0.5" {
		t.Errorf("status %+v, providerID %q; want phase Ready, the BIOS UUID, provisioned and the IP", vsm.Status, vsm.Spec.ProviderID)
	}
	if n := vsm.Status.Network.Interfaces; len(n) != 1 || n[0].IP.MACAddr != "00:50:56:aa:bb:cc" || len(n[0].IP.Addresses) != 1 ||
		n[0].IP.Addresses[0].Address != "10.0.0.5/24" || n[0].IP.Addresses[0].Origin != "manual" {
		t.Errorf("status.network %+v; want the VM's one observed interface", vsm.Status.Network)
	}
	for _, cond := range []string{vmwarev1.VSphereMachineVirtualMachineProvisionedCondition, vmwarev1.VSphereMachineReadyCondition} {
		if !conditions.IsTrue(vsm, cond) {
			t.Errorf("condition %s not True: %+v", cond, vsm.Status.Conditions)
		}
	}
	legacy := map[clusterv1.ConditionType]bool{}
	for _, c := range vsm.GetV1Beta1Conditions() {
		legacy[c.Type] = c.Status == "True"
	}
	if !legacy[vmwarev1.VMProvisionedV1Beta1Condition] || !legacy[clusterv1.ReadyV1Beta1Condition] {
		t.Errorf("v1beta1 conditions %+v; want VMProvisioned and Ready True", vsm.GetV1Beta1Conditions())
	}
}
