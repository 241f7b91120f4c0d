package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/embedded"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

const (
	makeRunSection = "makerun-bench"
	// makeRunBootDelay is `make run`'s: the binary's --boot-delay default.
	makeRunBootDelay = time.Second
)

// BenchmarkMakeRunSeed starts the embedded supervisor as `make run` does
// (the binary's defaults, boot delay 1 s), applies the seed manifest
// unchanged in ns1 and measures the time until it is running; then it
// measures the guest's LoadBalancer Services (guestServiceVIPs). It writes
// its section of bench/RESULTS.md.
func BenchmarkMakeRunSeed(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the whole scenario; use -benchtime 1x")
	}
	ctx := context.Background()
	emb := harness.StartEmbedded(b, embedded.Options{GuestPorts: "34000-34999", AddressOffset: 2, BootDelay: makeRunBootDelay})
	c, err := client.New(emb.Stack.Config, client.Options{Scheme: emb.Manager.GetScheme()})
	if err != nil {
		b.Fatal(err)
	}
	seed := readSeed(b)
	before := readFigures(b)
	start := time.Now()
	if err := c.Create(ctx, seed); err != nil {
		b.Fatal(err)
	}
	key := client.ObjectKeyFromObject(seed)
	if err := wait.Poll(ctx, 200*time.Millisecond, tkcTimeout, "the seed TKC running", func() (bool, error) {
		tkc := &runv1alpha3.TanzuKubernetesCluster{}
		if err := c.Get(ctx, key, tkc); err != nil {
			return false, err
		}
		return tkc.Status.Phase == runv1alpha3.PhaseRunning, fmt.Errorf("phase %q", tkc.Status.Phase)
	}); err != nil {
		b.Fatal(err)
	}
	seedTime := time.Since(start)
	seedCounts := readFigures(b).minus(before)
	svc := guestServiceVIPs(b, c, key)

	section := fmt.Sprintf(`## make run: the seed TKC, and LoadBalancer Services in its guest

- Date: %s
- Machine: %d CPUs, %s%s
- Command: `+"`make bench`"+`, benchmark `+"`BenchmarkMakeRunSeed`"+`
- Scenario: the embedded supervisor started in the test process as `+"`make run`"+` starts it (vcsim, etcd, kube-apiserver, kube-controller-manager, HAProxy behind the Data Plane API endpoint, Workload Management enabled through the REST API, ns1 created), guest boot delay %s as the binary's default. The seed manifest applied unchanged in ns1; running = `+"`status.phase: running`"+`, polled every 200 ms. Then %s

| Measure | Measured | Goal | Met |
|---|---|---|---|
| Seed TKC, create to running | %s | – | – |
| vCenter SOAP calls / sessions opened, create to running (`+"`/metrics`"+`) | %.0f / %.0f | – | – |
| HAProxy transactions / reload outcomes read by lbapi / Data Plane API requests, create to running (`+"`/metrics`"+`) | %.0f / %.0f / %.0f | – | – |
%s`,
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version(), cpuModel(), makeRunBootDelay,
		svc.scenario, seconds(seedTime), seedCounts.vcenterCalls, seedCounts.logins(),
		seedCounts.transactions, seedCounts.reloads, seedCounts.dataplaneRequests, svc.rows)
	path, err := writeSection(makeRunSection, section)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(seedTime.Seconds(), "s-seed-running")
	b.Logf("wrote %s", path)
}

// readSeed reads templates/samples/tkc-v1alpha1.yaml into ns1.
func readSeed(b *testing.B) *unstructured.Unstructured {
	root, err := repoRoot()
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(root + "/templates/samples/tkc-v1alpha1.yaml")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	u := &unstructured.Unstructured{}
	if err := yaml.NewYAMLOrJSONDecoder(f, 4096).Decode(&u.Object); err != nil {
		b.Fatal(err)
	}
	u.SetNamespace("ns1")
	return u
}
