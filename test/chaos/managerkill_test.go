package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/lbapi/haproxy"
	"github.com/open-supervisor/supervisor/test/wait"
)

// killPlan sizes the manager-kill scenario.
type killPlan struct {
	tkcs        int
	maxWorkers  int
	createKills int
	deleteKills int
	// converge is how long the TKCs have to reach running, and everything
	// to be gone, after the last kill.
	converge time.Duration
}

// managerKillPlan: `make test` runs 4 small TKCs and 3 kills; `make chaos`
// 20 TKCs of 1 control plane and 1 or 2 workers and 8 kills.
func managerKillPlan() killPlan {
	if full() {
		return killPlan{tkcs: 20, maxWorkers: 2, createKills: 5, deleteKills: 3, converge: 15 * time.Minute}
	}
	return killPlan{tkcs: 4, maxWorkers: 1, createKills: 2, deleteKills: 1, converge: 5 * time.Minute}
}

// tkcPrefix starts the scenario's TKC names, and so its VM names.
const tkcPrefix = "mk-"

// The supervisor's manager (Cluster API, the TKC controller, the
// infrastructure provider, the VM service, lbapi) is a separate process
// from the built binary, killed with SIGKILL at random points while TKCs
// are being created and again while they are being deleted, and started
// again each time; etcd, kube-apiserver, vcsim, HAProxy and the simulated
// guests live on. Every TKC must reach running, then everything must be
// gone after the delete: no VM cloned twice at any census, no VM, address,
// VIP or HAProxy section left, and no secret in the manager's logs.
//
// The kill points are random progress points (VMs in vCenter plus TKCs
// running while creating; VMs plus TKCs left while deleting), drawn from a
// seed that is logged: CHAOS_SEED=<seed> replays a run's points.
func TestManagerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server, HAProxy and the supervisor binary")
	}
	// Its own API server, vCenter, HAProxy, address ranges and guest ports:
	// it shares nothing with the other scenarios.
	t.Parallel()
	plan := managerKillPlan()
	runScenario(t, "manager killed with SIGKILL while TKCs are created and deleted", func(sc *scenario) {
		runManagerKill(sc, plan)
	})
}

func runManagerKill(sc *scenario, plan killPlan) {
	t := sc.t
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		sc.must(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	sc.note("kill points drawn with CHAOS_SEED=%d", seed)

	s := startKillStack(t)
	t.Cleanup(s.stopManager)
	s.startManager()
	s.createObjects(ctx)
	s.waitStackReady(ctx)

	dups := s.watchDuplicates(sc, tkcPrefix)
	defer dups.stop()

	// Creation under fire.
	tkcs, vmsWanted := killTKCs(t, plan, rng)
	start := time.Now()
	for _, u := range tkcs {
		wait.For(t, time.Minute, "TKC "+u.GetName()+" created", func() (bool, error) {
			err := s.client.Create(ctx, u.DeepCopy())
			return err == nil, err
		})
	}
	createKills := 0
	total := vmsWanted + len(tkcs)
	for _, point := range randomPoints(rng, plan.createKills, 1, total-1) {
		var vms, running int
		sc.converged(plan.converge, fmt.Sprintf("creation progress %d of %d", point, total), func() (bool, error) {
			var err error
			if vms, running, err = s.creationProgress(ctx); err != nil {
				return false, err
			}
			return vms+running >= point, fmt.Errorf("%d VMs, %d TKCs running", vms, running)
		})
		if running == len(tkcs) {
			sc.note("creation: every TKC was running before kill point %d of %d; no more kills while creating", point, total)
			break
		}
		s.killManager()
		createKills++
		sc.fault(1, fmt.Sprintf("SIGKILL to the manager while creating, at %d VMs in vCenter and %d of %d TKCs running, %s after the first create",
			vms, running, len(tkcs), time.Since(start).Round(100*time.Millisecond)))
		up := s.startManager()
		t.Logf("manager restarted, ready in %s", up.Round(100*time.Millisecond))
	}
	sc.converged(plan.converge, fmt.Sprintf("all %d TKCs running after %d kills", len(tkcs), createKills), func() (bool, error) {
		_, running, err := s.creationProgress(ctx)
		if err != nil {
			return false, err
		}
		return running == len(tkcs), fmt.Errorf("%d of %d TKCs running", running, len(tkcs))
	})
	sc.note("%d TKCs (%d VMs) running %s after the first create, through %d kills", len(tkcs), vmsWanted, time.Since(start).Round(time.Second), createKills)
	s.checkVMsMatchObjects(sc, ctx, vmsWanted)
	guestSecrets := s.guestSecrets(sc, ctx)

	// Deletion under fire.
	start = time.Now()
	for _, u := range tkcs {
		tkc := &runv1alpha3.TanzuKubernetesCluster{}
		tkc.Namespace, tkc.Name = killNamespace, u.GetName()
		wait.For(t, time.Minute, "TKC "+u.GetName()+" deleted", func() (bool, error) {
			err := client.IgnoreNotFound(s.client.Delete(ctx, tkc))
			return err == nil, err
		})
	}
	deleteKills := 0
	vms, left, err := s.deletionProgress(ctx)
	sc.must(err)
	remaining := vms + left
	points := randomPoints(rng, plan.deleteKills, 1, remaining-1)
	slices.Reverse(points)
	for _, point := range points {
		sc.converged(plan.converge, fmt.Sprintf("deletion down to %d of %d", point, remaining), func() (bool, error) {
			var err error
			if vms, left, err = s.deletionProgress(ctx); err != nil {
				return false, err
			}
			return vms+left <= point, fmt.Errorf("%d VMs, %d TKCs left", vms, left)
		})
		if vms+left == 0 {
			sc.note("deletion: everything was gone before kill point %d of %d; no more kills while deleting", point, remaining)
			break
		}
		s.killManager()
		deleteKills++
		sc.fault(1, fmt.Sprintf("SIGKILL to the manager while deleting, at %d VMs in vCenter and %d of %d TKCs left, %s after the deletes",
			vms, left, len(tkcs), time.Since(start).Round(100*time.Millisecond)))
		up := s.startManager()
		t.Logf("manager restarted, ready in %s", up.Round(100*time.Millisecond))
	}
	sc.converged(plan.converge, fmt.Sprintf("everything gone after %d kills while deleting", deleteKills), s.nothingLeft(ctx))
	sc.note("deleted %s after the deletes, through %d kills", time.Since(start).Round(time.Second), deleteKills)

	dups.stop()
	t.Logf("%d censuses of vCenter's VMs (at most %d VMs at once) found no VM twice unless reported above", dups.checks, dups.max)
	if dups.checks == 0 {
		sc.violate("no census of vCenter's VMs succeeded")
	}
	// A graceful stop flushes what the last manager logged.
	s.stopManager()
	s.noSecretsInManagerLogs(sc, guestSecrets)
}

// killTKCs are the scenario's TKCs: the seed manifest with 1 control plane
// and 1 to maxWorkers workers, and how many VMs they make.
func killTKCs(t *testing.T, plan killPlan, rng *rand.Rand) ([]*unstructured.Unstructured, int) {
	t.Helper()
	raw, err := os.ReadFile("../../templates/samples/tkc-v1alpha1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seed := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &seed.Object); err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	vms := 0
	for i := range plan.tkcs {
		workers := 1 + rng.IntN(plan.maxWorkers)
		u := seed.DeepCopy()
		u.SetNamespace(killNamespace)
		u.SetName(fmt.Sprintf("%s%02d", tkcPrefix, i))
		for path, n := range map[string]int{"controlPlane": 1, "workers": workers} {
			if err := unstructured.SetNestedField(u.Object, int64(n), "spec", "topology", path, "count"); err != nil {
				t.Fatal(err)
			}
		}
		vms += 1 + workers
		out = append(out, u)
	}
	return out, vms
}

// randomPoints are n distinct integers of [lo, hi], ascending (fewer when
// the range is smaller).
func randomPoints(rng *rand.Rand, n, lo, hi int) []int {
	if hi < lo {
		return nil
	}
	perm := rng.Perm(hi - lo + 1)
	if n < len(perm) {
		perm = perm[:n]
	}
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = lo + p
	}
	slices.Sort(out)
	return out
}

// waitStackReady waits for what a TKC needs from the manager's first
// start: the seed's VM class in the namespace, a Ready v1.18 release and
// the LoadBalancer's Data Plane API reached.
func (s *killStack) waitStackReady(ctx context.Context) {
	wait.For(s.t, 2*time.Minute, "the VM class, a Ready v1.18 release and the Data Plane API reached", func() (bool, error) {
		class := &vmopv1.VirtualMachineClass{}
		if err := s.client.Get(ctx, client.ObjectKey{Namespace: killNamespace, Name: "guaranteed-small"}, class); err != nil {
			return false, err
		}
		var releases runv1alpha3.TanzuKubernetesReleaseList
		if err := s.client.List(ctx, &releases); err != nil {
			return false, err
		}
		ready := false
		for _, r := range releases.Items {
			for _, c := range r.Status.Conditions {
				ready = ready || strings.HasPrefix(r.Spec.Version, "v1.18") && c.Type == runv1alpha3.ReleaseReadyCondition && c.Status == corev1.ConditionTrue
			}
		}
		if !ready {
			return false, fmt.Errorf("%d releases, none for v1.18 Ready", len(releases.Items))
		}
		lb := &lbv1.LoadBalancer{}
		if err := s.client.Get(ctx, client.ObjectKey{Name: killLoadBalancer}, lb); err != nil {
			return false, err
		}
		for _, c := range lb.Status.Conditions {
			if c.Type == lbv1.ConditionDataPlaneAPIReachable && c.Status == metav1.ConditionTrue {
				return true, nil
			}
		}
		return false, fmt.Errorf("LoadBalancer conditions %v", lb.Status.Conditions)
	})
}

// creationProgress is how many VMs vCenter holds and how many TKCs run.
func (s *killStack) creationProgress(ctx context.Context) (vms, running int, err error) {
	c, err := s.takeCensus(ctx, tkcPrefix)
	if err != nil {
		return 0, 0, err
	}
	var list runv1alpha3.TanzuKubernetesClusterList
	if err := s.client.List(ctx, &list, client.InNamespace(killNamespace)); err != nil {
		return 0, 0, err
	}
	for _, tkc := range list.Items {
		if tkc.Status.Phase == runv1alpha3.PhaseRunning {
			running++
		}
	}
	return c.total(), running, nil
}

// deletionProgress is how many VMs vCenter holds and how many TKCs are left.
func (s *killStack) deletionProgress(ctx context.Context) (vms, left int, err error) {
	c, err := s.takeCensus(ctx, tkcPrefix)
	if err != nil {
		return 0, 0, err
	}
	var list runv1alpha3.TanzuKubernetesClusterList
	if err := s.client.List(ctx, &list, client.InNamespace(killNamespace)); err != nil {
		return 0, 0, err
	}
	return c.total(), len(list.Items), nil
}

// checkVMsMatchObjects checks, once every TKC runs, that vCenter holds
// exactly one VM per VirtualMachine (by instance UUID, the object's UID)
// and nothing else; more VMs than the TKCs asked for (a Machine replaced
// after a kill) is noted, not a violation.
func (s *killStack) checkVMsMatchObjects(sc *scenario, ctx context.Context, wanted int) {
	// The last VM's object may still be settling; wait for the two views to
	// agree rather than read once.
	var census vmCensus
	var objects vmopv1.VirtualMachineList
	err := wait.Poll(ctx, wait.Interval, time.Minute, "vCenter's VMs to match the VirtualMachines", func() (bool, error) {
		var err error
		if census, err = s.takeCensus(ctx, tkcPrefix); err != nil {
			return false, err
		}
		if err := s.client.List(ctx, &objects, client.InNamespace(killNamespace)); err != nil {
			return false, err
		}
		if census.total() != len(objects.Items) {
			return false, fmt.Errorf("%d VMs in vCenter, %d VirtualMachines", census.total(), len(objects.Items))
		}
		for _, vm := range objects.Items {
			if len(census.byUUID[string(vm.UID)]) != 1 {
				return false, fmt.Errorf("VirtualMachine %s has %d VMs in vCenter", vm.Name, len(census.byUUID[string(vm.UID)]))
			}
		}
		return true, nil
	})
	if err != nil {
		sc.violate("once running: %v", err)
	}
	if n := len(objects.Items); n != wanted {
		sc.note("once running there were %d VMs where the TKCs ask for %d (Machines replaced after a kill)", n, wanted)
	}
}

// bootstrapToken is the form of a kubeadm bootstrap token.
var bootstrapToken = regexp.MustCompile(`\b[a-z0-9]{6}\.[a-z0-9]{16}\b`)

// guestSecrets are the secrets of the guest clusters the manager holds in
// the namespace: private keys (CAs, service-account signers), the
// kubeconfigs' client keys and tokens, and the bootstrap tokens in the
// nodes' bootstrap data.
func (s *killStack) guestSecrets(sc *scenario, ctx context.Context) map[string]string {
	var list corev1.SecretList
	sc.must(s.client.List(ctx, &list, client.InNamespace(killNamespace)))
	out := map[string]string{}
	for _, secret := range list.Items {
		for key, value := range secret.Data {
			v := string(value)
			what := fmt.Sprintf("Secret %s's %s", secret.Name, key)
			switch {
			case strings.Contains(v, "PRIVATE KEY-----"):
				out[what] = v
			case strings.HasSuffix(secret.Name, "-kubeconfig"):
				cfg, err := clientcmd.Load(value)
				if err != nil {
					continue
				}
				for name, auth := range cfg.AuthInfos {
					if len(auth.ClientKeyData) > 0 {
						out[what+" client key of "+name] = string(auth.ClientKeyData)
					}
					if auth.Token != "" {
						out[what+" token of "+name] = auth.Token
					}
				}
			}
			for _, tok := range bootstrapToken.FindAllString(v, -1) {
				out[what+" bootstrap token"] = tok
			}
		}
	}
	sc.t.Logf("%d guest-cluster secrets to look for in the manager's logs", len(out))
	return out
}

// nothingLeft holds once the namespace has no TKC, Cluster API or VM
// service object left, vCenter no VM, the network no address allocated to
// the namespace, the LoadBalancer no VIP in use and HAProxy no section of
// lbapi's.
func (s *killStack) nothingLeft(ctx context.Context) wait.Condition {
	return func() (bool, error) {
		var left []string
		for what, list := range map[string]client.ObjectList{
			"TanzuKubernetesClusters": &runv1alpha3.TanzuKubernetesClusterList{},
			"Clusters":                &clusterv1.ClusterList{},
			"Machines":                &clusterv1.MachineList{},
			"VSphereMachines":         &vmwarev1.VSphereMachineList{},
			"VirtualMachines":         &vmopv1.VirtualMachineList{},
			"VirtualMachineServices":  &vmopv1.VirtualMachineServiceList{},
		} {
			n, err := countIn(ctx, s.client, list)
			if err != nil {
				return false, err
			}
			if n > 0 {
				left = append(left, fmt.Sprintf("%d %s", n, what))
			}
		}
		c, err := s.takeCensus(ctx, tkcPrefix)
		if err != nil {
			return false, err
		}
		if n := c.total(); n > 0 {
			left = append(left, fmt.Sprintf("%d VMs in vCenter", n))
		}
		var allocations vspherev1.IPAddressAllocationList
		if err := s.client.List(ctx, &allocations); err != nil {
			return false, err
		}
		for _, a := range allocations.Items {
			if a.Spec.Owner.Namespace == killNamespace {
				left = append(left, fmt.Sprintf("address %s allocated to %s %s", a.Spec.Address, a.Spec.Owner.Kind, a.Spec.Owner.Name))
			}
		}
		lb := &lbv1.LoadBalancer{}
		if err := s.client.Get(ctx, client.ObjectKey{Name: killLoadBalancer}, lb); err != nil {
			return false, err
		}
		if lb.Status.VIPsInUse != 0 {
			left = append(left, fmt.Sprintf("%d VIPs in use", lb.Status.VIPsInUse))
		}
		cfg, err := os.ReadFile(s.app.ConfigPath())
		if err != nil {
			return false, err
		}
		for _, line := range strings.Split(string(cfg), "\n") {
			// lbapi's commit marker (an empty backend naming the last
			// commit) is its own bookkeeping, not a Service's.
			if f := strings.Fields(line); len(f) >= 2 && (f[0] == "frontend" || f[0] == "backend") &&
				strings.HasPrefix(f[1], haproxy.Prefix) && !haproxy.IsCommitMarker(f[1]) {
				left = append(left, "HAProxy "+f[0]+" "+f[1])
			}
		}
		if len(left) > 0 {
			return false, fmt.Errorf("left: %s", strings.Join(left, ", "))
		}
		return true, nil
	}
}

// countIn is how many objects of list's kind the scenario's namespace holds.
func countIn(ctx context.Context, c client.Client, list client.ObjectList) (int, error) {
	if err := c.List(ctx, list, client.InNamespace(killNamespace)); err != nil {
		return 0, err
	}
	return meta.LenList(list), nil
}
