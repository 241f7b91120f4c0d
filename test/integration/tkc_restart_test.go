package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// A supervisor manager restarted while the seed TKC is being created
// resumes it: the cluster reaches running with exactly its six VMs in
// vCenter, none cloned twice; deleting it then leaves no VM behind.
func TestTKCSurvivesManagerRestartMidCreate(t *testing.T) {
	h := harness.New(t, harness.Options{GuestClusters: true})
	ctx := context.Background()
	m := h.StartManager(nil)
	startLB(t, h, harness.LBOptions{Ranges: []lbv1.AddressRange{{Address: fmt.Sprintf("127.40.%d.10", lbSerial.Add(1)), Count: 4}}})
	seed := h.SeedTKC()
	if err := h.Client.Create(ctx, seed); err != nil {
		t.Fatal(err)
	}
	vmCount := func() int {
		var vms vmopv1.VirtualMachineList
		if err := h.Client.List(ctx, &vms, client.InNamespace(h.Namespace), client.MatchingLabels{vmwarev1.ClusterNameLabel: seed.GetName()}); err != nil {
			t.Fatal(err)
		}
		return len(vms.Items)
	}
	wait.For(t, 3*time.Minute, "the seed TKC's first two VMs", func() (bool, error) {
		if n := vmCount(); n < 2 {
			return false, fmt.Errorf("%d VMs", n)
		}
		return true, nil
	})

	m.Stop()
	h.StartManager(nil)

	wait.For(t, 4*time.Minute, "the seed TKC running after the restart", func() (bool, error) {
		tkc := &runv1alpha1.TanzuKubernetesCluster{}
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(seed), tkc); err != nil {
			t.Fatal(err)
		}
		if tkc.Status.Phase != runv1alpha1.PhaseRunning {
			return false, fmt.Errorf("not running: %+v", tkc.Status)
		}
		return true, nil
	})
	if n := vmCount(); n != 6 {
		t.Errorf("want 6 VirtualMachines, got %d", n)
	}
	if inVCenter := len(vcVMs(t, h, seed.GetName()+"-*")); inVCenter != 6 {
		t.Errorf("want 6 VMs in vCenter, got %d", inVCenter)
	}

	if err := h.Client.Delete(ctx, seed); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.ClusterDeleteTimeout, "the seed TKC's VMs deleted, in vCenter too", func() (bool, error) {
		if n := vmCount(); n > 0 {
			return false, fmt.Errorf("%d VirtualMachines left", n)
		}
		if n := len(vcVMRefs(h, seed.GetName()+"-*")); n > 0 {
			return false, fmt.Errorf("%d VMs left in vCenter", n)
		}
		return true, nil
	})
}
