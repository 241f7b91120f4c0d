package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

const (
	wcpSection    = "workload-management-bench"
	wcpNamespaces = 100
	wcpWorkers    = 8

	goalEnableToRunning = 15 * time.Second
	goalNamespaceP99    = 200 * time.Millisecond
)

// BenchmarkWorkloadManagement starts the embedded stack as make run does,
// which enables Workload Management through the REST API, and measures
// enable → RUNNING; then it creates 100 vSphere Namespaces through the
// REST API (each with VM classes, a storage policy and an access list),
// measuring each call, and the time until all are configured. It writes
// its section of bench/RESULTS.md.
func BenchmarkWorkloadManagement(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the whole scenario; use -benchtime 1x")
	}
	ctrl.SetLogger(logr.Discard())
	ctx := context.Background()
	emb := harness.StartEmbedded(b, embedded.Options{BootDelay: time.Second, GuestPorts: "30000-30999"})
	stack, mgr, hc, base := emb.Stack, emb.Manager, emb.HTTP, emb.URL
	enable := stack.EnableToRunning()
	user, password := stack.VCenterCredentials()
	id := benchLogin(b, hc, base, user, password)
	var sups vspherev1.SupervisorList
	if err := mgr.GetAPIReader().List(ctx, &sups); err != nil || len(sups.Items) != 1 {
		b.Fatalf("supervisors: %d (%v)", len(sups.Items), err)
	}
	cluster := sups.Items[0].Name
	var ns1 vspherev1.VSphereNamespace
	if err := mgr.GetAPIReader().Get(ctx, ctrlKey("ns1"), &ns1); err != nil {
		b.Fatal(err)
	}

	latencies := make([]time.Duration, wcpNamespaces)
	const createRoute = "/api/vcenter/namespaces/instances"
	before, latenciesBefore := readFigures(b), routeLatencies(b, "namespace-management", http.MethodPost, createRoute)
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, wcpNamespaces)
	for range wcpWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body, _ := json.Marshal(map[string]any{
					"cluster": cluster, "namespace": fmt.Sprintf("bench-%03d", i),
					"storage_specs":   []map[string]any{{"policy": ns1.Spec.StorageSpecs[0].Policy, "limit": 10240}},
					"vm_service_spec": map[string]any{"vm_classes": []string{"best-effort-small", "guaranteed-medium"}},
					"access_list":     []map[string]any{{"subject_type": "USER", "subject": fmt.Sprintf("dev%d", i), "domain": "vsphere.local", "role": "EDIT"}},
				})
				req, _ := http.NewRequest(http.MethodPost, base+"/api/vcenter/namespaces/instances", bytes.NewReader(body))
				req.Header.Set("vmware-api-session-id", id)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := hc.Do(req)
				latencies[i] = time.Since(t0)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusNoContent {
						err = fmt.Errorf("create bench-%03d: %s", i, resp.Status)
					}
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range wcpNamespaces {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	created := time.Since(start)
	wait.For(b, 5*time.Minute, "every namespace configured", func() (bool, error) {
		var all vspherev1.VSphereNamespaceList
		if err := mgr.GetAPIReader().List(ctx, &all); err != nil {
			return false, err
		}
		running := 0
		for _, n := range all.Items {
			if n.Status.ConfigStatus == vspherev1.ConfigStatusRunning {
				running++
			}
		}
		return running >= wcpNamespaces+1, fmt.Errorf("%d of %d RUNNING", running, wcpNamespaces+1)
	})
	configured := time.Since(start)
	counted := readFigures(b).minus(before)
	createRow := histogramRow(b, "Namespace create, REST latency", routeLatencies(b, "namespace-management", http.MethodPost, createRoute).Minus(latenciesBefore), wcpNamespaces)

	slices.Sort(latencies)
	q := func(f float64) time.Duration { return latencies[int(f*float64(len(latencies)-1))] }
	b.ReportMetric(enable.Seconds(), "s-enable-to-running")
	b.ReportMetric(float64(q(0.99).Milliseconds()), "ms-namespace-create-p99")
	b.ReportMetric(configured.Seconds(), "s-100-namespaces-configured")
	section := fmt.Sprintf(`## Workload Management (BenchmarkWorkloadManagement)

%s, %d cores%s. The embedded stack as `+"`make run`"+` starts it; %d vSphere Namespaces created through the REST API by %d clients at once, each with 2 VM classes, a storage policy with a limit and an access list.

| | measured | goal | met |
|---|---|---|---|
| Enable → RUNNING (REST call to config_status RUNNING) | %s | %s | %s |
| Namespace create, REST latency p50 / p99, as the clients measured it | %d / %d ms | p99 under %d ms | %s |
%s| %d namespaces: all created / all configured (classes, storage, quotas, role bindings) | %s / %s | – | – |
| vCenter SOAP calls on the supervisor's session per namespace, create to configured (`+"`supervisor_vcenter_calls_total`"+`) | %.1f | – | – |

The clients' latencies are exact; `+"`/metrics`"+`' are the server's time in the handler, estimated from the histogram's buckets as Prometheus's `+"`histogram_quantile`"+` does (the goal is judged on the clients' figures, which include the transport).

`, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), cpuModel(), wcpNamespaces, wcpWorkers,
		seconds(enable), seconds(goalEnableToRunning), met(enable <= goalEnableToRunning),
		q(0.50).Milliseconds(), q(0.99).Milliseconds(), goalNamespaceP99.Milliseconds(), met(q(0.99) <= goalNamespaceP99),
		createRow, wcpNamespaces, seconds(created), seconds(configured), counted.vcenterCalls/wcpNamespaces)
	if path, err := writeSection(wcpSection, section); err != nil {
		b.Error(err)
	} else {
		b.Logf("wrote %s", path)
	}
}

// benchLogin logs in at the stack's vCenter URL and returns the session.
func benchLogin(b *testing.B, hc *http.Client, base, user, password string) string {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/session", nil)
	req.SetBasicAuth(user, password)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var id string
	if err := json.NewDecoder(resp.Body).Decode(&id); err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("login: %s (%v)", resp.Status, err)
	}
	return id
}

func ctrlKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }
