package e2e

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/diff"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/wait"
)

// strict is `kubectl apply`'s field validation: a field the schema does
// not know fails the request instead of being dropped.
var strict = client.FieldValidation("Strict")

// tkcVersions are the TanzuKubernetesCluster versions the API serves.
var tkcVersions = []string{"v1alpha1", "v1alpha2", "v1alpha3"}

// corpusCluster is one manifest of the corpus and what it must show in
// vCenter once running.
type corpusCluster struct {
	file string
	// vms is the cluster's VM count.
	vms int
	// disks maps a VM name prefix (after "<cluster>-") to the capacity in
	// GiB of the extra disk each of its VMs must have.
	disks map[string]int64
	// userData are strings every node's cloud-init must carry.
	userData []string
}

// TestCorpusFromTheField applies TanzuKubernetesCluster manifests written
// as VMware documents them (testdata/corpus) strictly, writes each back
// through every served version and checks that nothing changed, then waits
// for them to run and looks in vCenter for what they asked for.
func TestCorpusFromTheField(t *testing.T) {
	corpus := []corpusCluster{
		{file: "tkc-v1alpha1-separate-disks.yaml", vms: 2,
			disks: map[string]int64{"control-plane": 4, "workers": 16}},
		{file: "tkc-v1alpha2-custom.yaml", vms: 4,
			disks:    map[string]int64{"worker-nodepool-a3": 16},
			userData: []string{"proxy.example.com:3128", "companyinternalca-1"}},
		{file: "tkc-v1alpha3-volumes.yaml", vms: 2,
			disks: map[string]int64{"control-plane": 4, "node-pool-01": 16}},
	}
	var keys []client.ObjectKey
	for _, c := range corpus {
		u := applyStrict(t, filepath.Join("testdata", "corpus", c.file), "ns1")
		key := client.ObjectKeyFromObject(u)
		keys = append(keys, key)
		t.Cleanup(func() { deleteCluster(t, key) })
		roundTripAllVersions(t, key, u.GetAPIVersion())
	}
	var wg sync.WaitGroup
	for i, c := range corpus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			waitRunning(t, keys[i], c.vms)
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	vms := vcenterVMs(t, "ns1")
	// A node without volumes has the node image's disks; volumes come
	// after them.
	var imageDisks []*types.VirtualDisk
	for _, vm := range vms {
		if strings.HasPrefix(vm.Name, "tkc-custom-worker-nodepool-a1-") {
			imageDisks = vmDisks(vm)
		}
	}
	for i, c := range corpus {
		checkCorpusInVCenter(t, keys[i].Name, c, vms, imageDisks)
	}
	// The taint and label a pool asks for are on its guest Nodes.
	checkPoolNodes(t, "tkc-custom", "worker-nodepool-a2", "tier", "gpu", "nvidia.com/gpu")
}

// applyStrict creates the one object of a manifest file in namespace with
// strict field validation.
func applyStrict(t *testing.T, path, namespace string) *unstructured.Unstructured {
	t.Helper()
	u := readManifest(t, path)
	u.SetNamespace(namespace)
	if err := supervisor.client.Create(context.Background(), u, strict); err != nil {
		t.Fatalf("applying %s: %v", path, err)
	}
	return u
}

// roundTripAllVersions reads the cluster in each served version and writes
// it back unchanged; the spec read in the manifest's own version must stay
// what it was.
func roundTripAllVersions(t *testing.T, key client.ObjectKey, own string) {
	t.Helper()
	ctx := context.Background()
	read := func(apiVersion string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind("TanzuKubernetesCluster")
		if err := supervisor.client.Get(ctx, key, u); err != nil {
			t.Fatalf("reading %s as %s: %v", key.Name, apiVersion, err)
		}
		return u
	}
	want := read(own).Object["spec"]
	for _, v := range tkcVersions {
		apiVersion := "run.tanzu.vmware.com/" + v
		// The controller writes status meanwhile: a conflict is read again.
		wait.For(t, 30*time.Second, fmt.Sprintf("%s written back as %s", key.Name, v), func() (bool, error) {
			err := supervisor.client.Update(ctx, read(apiVersion), strict)
			if apierrors.IsConflict(err) {
				return false, err
			}
			if err != nil {
				t.Fatalf("writing %s back as %s: %v", key.Name, v, err)
			}
			return true, nil
		})
		if got := read(own).Object["spec"]; !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("%s: writing it back as %s changed its %s spec:\n%s", key.Name, v, own, diff.Diff(want, got))
		}
	}
}

// checkCorpusInVCenter checks a running corpus cluster's VMs: each has,
// beyond the node image's disks, the disk of its pool's volume, and its cloud-init carries what the
// manifest's settings ask for.
func checkCorpusInVCenter(t *testing.T, cluster string, c corpusCluster, vms []mo.VirtualMachine, imageDisks []*types.VirtualDisk) {
	t.Helper()
	found := 0
	for _, vm := range vms {
		rest, ok := strings.CutPrefix(vm.Name, cluster+"-")
		if !ok {
			continue
		}
		found++
		disks := vmDisks(vm)
		var extra []int64
		for _, disk := range disks[min(len(imageDisks), len(disks)):] {
			extra = append(extra, disk.CapacityInKB/(1024*1024))
		}
		want := int64(0)
		for prefix, gib := range c.disks {
			if strings.HasPrefix(rest, prefix+"-") {
				want = gib
			}
		}
		switch {
		case want == 0 && len(extra) != 0:
			t.Errorf("VM %s has extra disks %v GiB; its pool asks for none", vm.Name, extra)
		case want != 0 && (len(extra) != 1 || extra[0] != want):
			t.Errorf("VM %s has extra disks %v GiB, want one of %d GiB; its VirtualMachine's volumes: %+v", vm.Name, extra, want, vmVolumes(t, vm.Name))
		}
		userData := guestinfo(t, vm, "guestinfo.userdata")
		for _, s := range c.userData {
			if !strings.Contains(userData, s) {
				t.Errorf("VM %s: cloud-init does not carry %q", vm.Name, s)
			}
		}
	}
	if found != c.vms {
		t.Errorf("%s: %d VMs in vCenter, want %d", cluster, found, c.vms)
	}
}

// checkPoolNodes checks that the guest Nodes of a pool carry its label and
// taint.
func checkPoolNodes(t *testing.T, cluster, pool, label, value, taint string) {
	t.Helper()
	guest := guestClient(t, cluster)
	wait.For(t, time.Minute, "the pool's Nodes labelled and tainted", func() (bool, error) {
		nodes := &corev1.NodeList{}
		if err := guest.List(context.Background(), nodes); err != nil {
			return false, err
		}
		n := 0
		for _, node := range nodes.Items {
			if !strings.HasPrefix(node.Name, cluster+"-"+pool+"-") {
				continue
			}
			n++
			tainted := false
			for _, tt := range node.Spec.Taints {
				tainted = tainted || tt.Key == taint
			}
			if node.Labels[label] != value || !tainted {
				return false, fmt.Errorf("node %s: labels %v, taints %v", node.Name, node.Labels, node.Spec.Taints)
			}
		}
		return n > 0, fmt.Errorf("no Node of pool %s", pool)
	})
}

// vmVolumes are the volumes of a VirtualMachine: what a missing disk
// needs to be explained.
func vmVolumes(t *testing.T, name string) []vmopv1.VirtualMachineVolume {
	vm := &vmopv1.VirtualMachine{}
	if err := supervisor.client.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: name}, vm); err != nil {
		t.Logf("VirtualMachine %s: %v", name, err)
	}
	return vm.Spec.Volumes
}

// vmDisks are a VM's disks in the order vCenter added them.
func vmDisks(vm mo.VirtualMachine) []*types.VirtualDisk {
	var disks []*types.VirtualDisk
	for _, d := range vm.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			disks = append(disks, disk)
		}
	}
	slices.SortFunc(disks, func(a, b *types.VirtualDisk) int { return cmp.Compare(a.Key, b.Key) })
	return disks
}
