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
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta1"
	"github.com/open-supervisor/supervisor/test/harness"
)

// A supervisor manager restarted while the seed TKC is being created
// resumes it: the cluster reaches running with exactly its six VMs in
// vCenter, none cloned twice.
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
	for deadline := time.Now().Add(3 * time.Minute); vmCount() < 2; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d VMs after 3 minutes", vmCount())
		}
	}

	m.Stop()
	h.StartManager(nil)

	tkc := &runv1alpha1.TanzuKubernetesCluster{}
	deadline := time.Now().Add(4 * time.Minute)
	for {
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(seed), tkc); err != nil {
			t.Fatal(err)
		}
		if tkc.Status.Phase == runv1alpha1.PhaseRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not running after the restart: %+v", tkc.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if n := vmCount(); n != 6 {
		t.Errorf("want 6 VirtualMachines, got %d", n)
	}
	if inVCenter := len(vcVMs(t, h, seed.GetName()+"-*")); inVCenter != 6 {
		t.Errorf("want 6 VMs in vCenter, got %d", inVCenter)
	}
}
