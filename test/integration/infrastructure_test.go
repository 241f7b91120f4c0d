package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/conditions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/providers/vsphere/infrastructure"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// Cluster API drives our infrastructure provider: the Cluster's
// control-plane endpoint becomes a VIP served by HAProxy, a control-plane
// Machine becomes a VM cloned in vCenter with the Machine's bootstrap data
// and a claim for its volume, and deleting the Cluster removes the VM, the
// claim, the VirtualMachineService and frees the VIP.
func TestClusterAPIInfrastructureOnVCenter(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	e := startLB(t, h, harness.LBOptions{})
	ctx := context.Background()
	ns := h.Namespace

	infraRef := func(kind, name string) clusterv1.ContractVersionedObjectReference {
		return clusterv1.ContractVersionedObjectReference{APIGroup: vmwarev1.GroupVersion.Group, Kind: kind, Name: name}
	}
	objs := []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cp-0-bootstrap", Labels: map[string]string{clusterv1.ClusterNameLabel: "guest"}},
			Data:       map[string][]byte{"value": []byte("## template: jinja\n#cloud-config\nruncmd:\n- kubeadm init\n"), "format": []byte("cloud-config")},
		},
		&vmwarev1.VSphereCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "guest", Labels: map[string]string{clusterv1.ClusterNameLabel: "guest"}}},
		// Names the Cluster by label, but the Cluster's infrastructure is
		// the other one: it must not be served.
		&vmwarev1.VSphereCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "decoy", Labels: map[string]string{clusterv1.ClusterNameLabel: "guest"}}},
		&clusterv1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "guest"},
			Spec:       clusterv1.ClusterSpec{InfrastructureRef: infraRef("VSphereCluster", "guest")},
		},
		&vmwarev1.VSphereMachine{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cp-0"},
			Spec: vmwarev1.VSphereMachineSpec{ImageName: h.Image, ClassName: "best-effort-xsmall", StorageClass: h.StorageClass,
				Volumes: []vmwarev1.VSphereMachineVolume{{Name: "etcd", Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("4Gi")}}}},
		},
		&clusterv1.Machine{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cp-0", Labels: map[string]string{
				clusterv1.ClusterNameLabel: "guest", clusterv1.MachineControlPlaneLabel: "",
			}},
			Spec: clusterv1.MachineSpec{
				ClusterName: "guest", Version: "v1.18.20",
				Bootstrap:         clusterv1.Bootstrap{DataSecretName: ptr.To("cp-0-bootstrap")},
				InfrastructureRef: infraRef("VSphereMachine", "cp-0"),
			},
		},
	}
	for _, o := range objs {
		if err := h.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}

	// The endpoint: a VIP of the load balancer, recorded by Cluster API.
	first := e.Object.Spec.AddressRanges[0].Address
	cluster := &clusterv1.Cluster{}
	wait.For(t, harness.Timeout, "the Cluster's control-plane endpoint on the VIP", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "guest"}, cluster); err != nil {
			return false, err
		}
		if cluster.Spec.ControlPlaneEndpoint.Host != first || cluster.Spec.ControlPlaneEndpoint.Port != infrastructure.APIServerPort ||
			!ptr.Deref(cluster.Status.Initialization.InfrastructureProvisioned, false) {
			return false, fmt.Errorf("endpoint %+v, infrastructure provisioned %v", cluster.Spec.ControlPlaneEndpoint, cluster.Status.Initialization.InfrastructureProvisioned)
		}
		return true, nil
	})
	svc := &vmopv1.VirtualMachineService{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "guest"}, svc); err != nil {
		t.Fatal(err)
	}
	if owner := metav1.GetControllerOf(svc); owner == nil || owner.Name != "guest" {
		t.Errorf("the control-plane VirtualMachineService is controlled by %+v, want VSphereCluster guest", owner)
	}
	decoy := &vmwarev1.VSphereCluster{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "decoy"}, decoy); err != nil {
		t.Fatal(err)
	}
	if len(decoy.Finalizers) != 0 || decoy.Spec.ControlPlaneEndpoint.Host != "" || len(decoy.Status.Conditions) != 0 {
		t.Errorf("a VSphereCluster no Cluster refers to was reconciled: finalizers %v, endpoint %+v, conditions %+v",
			decoy.Finalizers, decoy.Spec.ControlPlaneEndpoint, decoy.Status.Conditions)
	}
	if err := h.Client.Delete(ctx, decoy); err != nil {
		t.Fatal(err)
	}

	// The machine: a VM in vCenter, its BIOS UUID as providerID, its IP on the Machine.
	vm := &vmopv1.VirtualMachine{}
	machine := &clusterv1.Machine{}
	wait.For(t, harness.Timeout, "the Machine's infrastructure provisioned", func() (bool, error) {
		if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cp-0"}, machine); err != nil {
			return false, err
		}
		if !ptr.Deref(machine.Status.Initialization.InfrastructureProvisioned, false) || len(machine.Status.Addresses) == 0 {
			return false, fmt.Errorf("machine status %+v", machine.Status)
		}
		if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cp-0"}, vm); err != nil {
			return false, err
		}
		return true, nil
	})
	if want := infrastructure.ProviderIDPrefix + vm.Status.BiosUUID; machine.Spec.ProviderID != want || vm.Status.BiosUUID == "" {
		t.Errorf("providerID %q, want %q", machine.Spec.ProviderID, want)
	}
	if machine.Status.Addresses[0].Address != vm.Status.Network.PrimaryIP4 {
		t.Errorf("Machine addresses %+v, VM IP %s", machine.Status.Addresses, vm.Status.Network.PrimaryIP4)
	}
	// What CAPV users read of a running machine: v1beta2's phase, biosUUID,
	// provisioned and addresses, and v1beta1's vmIp, vmID, ready and
	// vmstatus (kubectl's IPAddr column).
	vsm := &vmwarev1.VSphereMachine{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cp-0"}, vsm); err != nil {
		t.Fatal(err)
	}
	if vsm.Status.BiosUUID != vm.Status.BiosUUID || vsm.Status.Phase != vmwarev1.VSphereMachinePhaseReady ||
		!ptr.Deref(vsm.Status.Initialization.Provisioned, false) || len(vsm.Status.Addresses) == 0 ||
		!conditions.IsTrue(vsm, vmwarev1.VSphereMachineVirtualMachineProvisionedCondition) || !conditions.IsTrue(vsm, vmwarev1.VSphereMachineReadyCondition) {
		t.Errorf("VSphereMachine v1beta2 status %+v; want the VM's biosUUID, phase Ready, provisioned, addresses and True conditions", vsm.Status)
	}
	if len(vm.Status.Network.Interfaces) != len(vsm.Status.Network.Interfaces) {
		t.Errorf("VSphereMachine status.network %+v; want the VM's interfaces %+v", vsm.Status.Network, vm.Status.Network.Interfaces)
	}
	legacy := &unstructured.Unstructured{}
	legacy.SetAPIVersion(vmwarev1.GroupVersion.Group + "/v1beta1")
	legacy.SetKind("VSphereMachine")
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cp-0"}, legacy); err != nil {
		t.Fatal(err)
	}
	vmIP, _, _ := unstructured.NestedString(legacy.Object, "status", "vmIp")
	vmID, _, _ := unstructured.NestedString(legacy.Object, "status", "vmID")
	ready, _, _ := unstructured.NestedBool(legacy.Object, "status", "ready")
	vmstatus, _, _ := unstructured.NestedString(legacy.Object, "status", "vmstatus")
	if vmIP != vm.Status.Network.PrimaryIP4 || vmID != vm.Status.BiosUUID || !ready || vmstatus != "ready" {
		t.Errorf("VSphereMachine as v1beta1: vmIp %q, vmID %q, ready %v, vmstatus %q; want %s, %s, true, ready", vmIP, vmID, ready, vmstatus, vm.Status.Network.PrimaryIP4, vm.Status.BiosUUID)
	}
	if vm.Labels[vmwarev1.ClusterRoleLabel] != vmwarev1.RoleControlPlane || vm.Spec.Bootstrap.CloudInit.RawCloudConfig.Name != "cp-0-bootstrap" {
		t.Errorf("VirtualMachine labels %v, bootstrap %+v", vm.Labels, vm.Spec.Bootstrap)
	}
	// The machine's volume: a claim <machine>-<volume> of the machine's
	// storage class, mounted as a VM volume.
	pvc := &corev1.PersistentVolumeClaim{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cp-0-etcd"}, pvc); err != nil {
		t.Fatalf("the volume's claim: %v", err)
	}
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "4Gi" || ptr.Deref(pvc.Spec.StorageClassName, "") != h.StorageClass {
		t.Errorf("claim %s: %s of class %v", pvc.Name, q.String(), pvc.Spec.StorageClassName)
	}
	if len(vm.Spec.Volumes) != 1 || vm.Spec.Volumes[0].Name != "etcd" || vm.Spec.Volumes[0].PersistentVolumeClaim == nil ||
		vm.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "cp-0-etcd" {
		t.Errorf("VirtualMachine volumes %+v", vm.Spec.Volumes)
	}
	vcvms := vcVMs(t, h, "cp-0")
	if len(vcvms) != 1 {
		t.Fatalf("want 1 VM in vCenter, found %d", len(vcvms))
	}
	if !strings.Contains(decode(t, extraConfig(vcvms[0], "guestinfo.userdata")), "kubeadm init") {
		t.Error("the VM does not carry the Machine's bootstrap data")
	}

	// Deleting the Cluster removes everything and frees the VIP.
	if err := h.Client.Delete(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the Cluster's VM, volume claim, VirtualMachineService and VIP to be gone", func() (bool, error) {
		for _, o := range []client.Object{&clusterv1.Cluster{}, &clusterv1.Machine{}, &vmwarev1.VSphereMachine{}, &vmopv1.VirtualMachine{}, &vmwarev1.VSphereCluster{}, &vmopv1.VirtualMachineService{}, &corev1.PersistentVolumeClaim{}} {
			name := "cp-0"
			switch o.(type) {
			case *clusterv1.Cluster, *vmwarev1.VSphereCluster, *vmopv1.VirtualMachineService:
				name = "guest"
			case *corev1.PersistentVolumeClaim:
				name = "cp-0-etcd"
			}
			if err := h.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o); !apierrors.IsNotFound(err) {
				return false, fmt.Errorf("%T %s still there (%v)", o, name, err)
			}
		}
		if n := len(vcVMs(t, h, "cp-0")); n != 0 {
			return false, fmt.Errorf("%d VMs left in vCenter", n)
		}
		if lb := e.loadBalancer(); lb.Status.VIPsInUse != 0 {
			return false, fmt.Errorf("%d VIPs still in use", lb.Status.VIPsInUse)
		}
		return true, nil
	})
}
