package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/test/wait"
)

const (
	release122 = "v1.22.9---vmware.1-tkg.1.cc71bc8"
	release123 = "v1.23.8---vmware.3-tkg.1"
)

// A v1alpha2 cluster with two node pools and an additional trusted CA
// comes up, every VM's cloud-init carrying the CA and np-a's VM the disk
// of its containerd volume; its control plane
// scales from 1 to 3; an upgrade to the next release replaces every VM one
// at a time per group, never two VMs of one name; deleting it leaves
// nothing.
func TestTwoPoolsScaleAndUpgrade(t *testing.T) {
	c := supervisor.client
	ctx := context.Background()
	caPEM, err := os.ReadFile(readEnv(t)["GOVC_TLS_CA_CERTS"])
	if err != nil {
		t.Fatal(err)
	}
	caData := base64.StdEncoding.EncodeToString(caPEM)
	objs := applyWith(t, "../../templates/samples/tkc-v1alpha2-two-pools.yaml", "ns1", func(u *unstructured.Unstructured) {
		set(t, u.Object, []any{map[string]any{"name": "registry-ca", "data": caData}},
			"spec", "settings", "network", "trust", "additionalTrustedCAs")
	})
	name := objs[0].GetName()
	key := client.ObjectKey{Namespace: "ns1", Name: name}
	waitRunning(t, key, 3)
	checked := 0
	for _, vm := range vcenterVMs(t, "ns1") {
		if !strings.HasPrefix(vm.Name, name+"-") {
			continue
		}
		checked++
		userdata := guestinfo(t, vm, "guestinfo.userdata")
		if !strings.Contains(userdata, "/etc/ssl/certs/tkg-custom-ca-registry-ca.pem") || !strings.Contains(userdata, caData) {
			t.Errorf("VM %s: cloud-init does not write the trusted CA:\n%s", vm.Name, userdata)
		}
	}
	if checked != 3 {
		t.Errorf("checked the cloud-init of %d VMs in vCenter, want 3", checked)
	}
	checkVolumeDisks(t, name, "np-a", "containerd", 2<<20)

	// Control plane 1 → 3.
	update(t, key, func(tkc *runv1alpha2.TanzuKubernetesCluster) { tkc.Spec.Topology.ControlPlane.Replicas = ptrInt32(3) })
	waitRunning(t, key, 5)

	// Upgrade every group to v1.23: rolling, at most one extra VM per group.
	update(t, key, func(tkc *runv1alpha2.TanzuKubernetesCluster) {
		tkc.Spec.Topology.ControlPlane.TKR.Reference.Name = release123
		for i := range tkc.Spec.Topology.NodePools {
			tkc.Spec.Topology.NodePools[i].TKR.Reference.Name = release123
		}
	})
	// Every look during the rollout checks its invariants; looking every
	// 300 ms, as before, keeps the vCenter logins of vcenterVMs few.
	if err := wait.Poll(ctx, 300*time.Millisecond, 5*time.Minute, "the upgrade to "+release123, func() (bool, error) {
		groups := map[string]int{}
		for _, vm := range clusterVMs(t, name) {
			groups[vmGroup(name, vm.Name)]++
		}
		if groups["control-plane"] > 4 || groups["np-a"] > 2 || groups["np-b"] > 2 {
			t.Fatalf("more than one extra VM in a group during the rollout: %v", groups)
		}
		seen := map[string]bool{}
		for _, vm := range vcenterVMs(t, "ns1") {
			if seen[vm.Name] {
				t.Fatalf("two VMs named %s in vCenter", vm.Name)
			}
			seen[vm.Name] = true
		}
		if !upgraded(t, name) {
			return false, fmt.Errorf("VMs per group: %v", groups)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, key, 5)

	hub := &runv1alpha3.TanzuKubernetesCluster{}
	if err := c.Get(ctx, key, hub); err != nil {
		t.Fatal(err)
	}
	if len(hub.Status.APIEndpoints) == 0 {
		t.Fatalf("a running cluster without an API endpoint: %+v", hub.Status)
	}
	vip := hub.Status.APIEndpoints[0].Host
	if err := c.Delete(ctx, hub); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 3*time.Minute, "the cluster gone", func() (bool, error) {
		if n := len(clusterVMs(t, name)); n != 0 {
			return false, fmt.Errorf("%d VirtualMachines left", n)
		}
		for _, vm := range vcenterVMs(t, "ns1") {
			if strings.HasPrefix(vm.Name, name+"-") {
				return false, fmt.Errorf("VM %s left in vCenter", vm.Name)
			}
		}
		var claims corev1.PersistentVolumeClaimList
		if err := c.List(ctx, &claims, client.InNamespace("ns1")); err != nil {
			return false, err
		}
		for _, pvc := range claims.Items {
			if strings.HasPrefix(pvc.Name, name+"-") {
				return false, fmt.Errorf("PersistentVolumeClaim %s left", pvc.Name)
			}
		}
		if err := vipReleased(vip); err != nil {
			return false, err
		}
		return true, nil
	})
}

// checkVolumeDisks checks that every VM of pool has the claim of volume and,
// in vCenter, one more disk than the control plane's of capacityKB.
func checkVolumeDisks(t *testing.T, cluster, pool, volume string, capacityKB int64) {
	t.Helper()
	disks := func(vm mo.VirtualMachine) (n int, sized int) {
		for _, d := range vm.Config.Hardware.Device {
			if disk, ok := d.(*types.VirtualDisk); ok {
				n++
				if disk.CapacityInKB == capacityKB {
					sized++
				}
			}
		}
		return n, sized
	}
	base, found := -1, 0
	vms := vcenterVMs(t, "ns1")
	for _, vm := range vms {
		if vmGroup(cluster, vm.Name) == "control-plane" {
			base, _ = disks(vm)
		}
	}
	for _, vm := range vms {
		if vmGroup(cluster, vm.Name) != pool {
			continue
		}
		found++
		if n, sized := disks(vm); n != base+1 || sized != 1 {
			t.Errorf("VM %s has %d disks (%d of %d KB); the control plane has %d", vm.Name, n, sized, capacityKB, base)
		}
		pvc := &corev1.PersistentVolumeClaim{}
		if err := supervisor.client.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: vm.Name + "-" + volume}, pvc); err != nil {
			t.Errorf("the claim of VM %s's volume %s: %v", vm.Name, volume, err)
		}
	}
	if found == 0 || base < 0 {
		t.Errorf("no VM of pool %s or of the control plane in vCenter", pool)
	}
}

func ptrInt32(v int32) *int32 { return &v }

// vmGroup is the control plane or the node pool a VM belongs to.
func vmGroup(cluster, vm string) string {
	rest := strings.TrimPrefix(vm, cluster+"-")
	for _, g := range []string{"control-plane", "np-a", "np-b"} {
		if strings.HasPrefix(rest, g+"-") {
			return g
		}
	}
	return rest
}

// upgraded says whether every Machine of the cluster runs from a v1.23 template.
func upgraded(t *testing.T, cluster string) bool {
	var machines clusterv1.MachineList
	if err := supervisor.client.List(context.Background(), &machines, client.InNamespace("ns1"),
		client.MatchingLabels{clusterv1.ClusterNameLabel: cluster}); err != nil {
		t.Fatal(err)
	}
	if len(machines.Items) != 5 {
		return false
	}
	for _, m := range machines.Items {
		if m.Spec.Version != "v1.23.8+vmware.3" || !m.DeletionTimestamp.IsZero() {
			return false
		}
	}
	return true
}

func update(t *testing.T, key client.ObjectKey, change func(*runv1alpha2.TanzuKubernetesCluster)) {
	t.Helper()
	ctx := context.Background()
	wait.For(t, 30*time.Second, "the TKC updated", func() (bool, error) {
		tkc := &runv1alpha2.TanzuKubernetesCluster{}
		if err := supervisor.client.Get(ctx, key, tkc); err != nil {
			return false, err
		}
		change(tkc)
		if err := supervisor.client.Update(ctx, tkc); err != nil {
			return false, err
		}
		return true, nil
	})
}

// waitRunning waits for the TKC to be running with vms VirtualMachines.
func waitRunning(t *testing.T, key client.ObjectKey, vms int) {
	t.Helper()
	ctx := context.Background()
	wait.For(t, 4*time.Minute, fmt.Sprintf("%s running with %d VMs", key.Name, vms), func() (bool, error) {
		tkc := &runv1alpha3.TanzuKubernetesCluster{}
		if err := supervisor.client.Get(ctx, key, tkc); err != nil {
			return false, err
		}
		ready := false
		for _, c := range tkc.Status.Conditions {
			if c.Type == runv1alpha3.ReadyCondition && c.Status == "True" {
				ready = true
			}
		}
		if n := len(clusterVMs(t, key.Name)); !ready || n != vms {
			return false, fmt.Errorf("ready %v, %d VMs, conditions %+v", ready, n, tkc.Status.Conditions)
		}
		return true, nil
	})
}

// guestinfo decodes a base64 guestinfo key of a vCenter VM.
func guestinfo(t *testing.T, vm mo.VirtualMachine, key string) string {
	t.Helper()
	for _, o := range vm.Config.ExtraConfig {
		if ov := o.GetOptionValue(); ov.Key == key {
			b, err := base64.StdEncoding.DecodeString(fmt.Sprint(ov.Value))
			if err != nil {
				t.Fatalf("VM %s: %s is not base64: %v", vm.Name, key, err)
			}
			return string(b)
		}
	}
	t.Fatalf("VM %s has no %s", vm.Name, key)
	return ""
}
