package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"
	"k8s.io/client-go/rest"

	"github.com/open-supervisor/supervisor/test/harness"
)

// cpuSeconds is the CPU time (user + system) used so far by this test
// process and by each kind of process it started (the shared
// kube-apiserver, the guests' kube-apiservers, etcd, kube-controller-manager,
// HAProxy), in seconds. Processes that already exited are not counted.
func cpuSeconds(b *testing.B) map[string]float64 {
	self, err := procfs.Self()
	if err != nil {
		b.Fatal(err)
	}
	stat, err := self.Stat()
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{"test process": stat.CPUTime()}
	procs, err := procfs.AllProcs()
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range procs {
		stat, err := p.Stat()
		if err != nil || stat.PPID != self.PID {
			continue // exited meanwhile, or not ours
		}
		args, err := p.CmdLine()
		if err != nil || len(args) == 0 {
			continue
		}
		kind := filepath.Base(args[0])
		guest := guestPrefix.MatchString(strings.Join(args, " "))
		if guest && (kind == "kube-apiserver" || kind == "kube-controller-manager") {
			kind = "guests' " + kind
		}
		out[kind] += stat.CPUTime()
	}
	return out
}

// minusCPU is the CPU-seconds used between two readings, by kind.
func minusCPU(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

func sumCPU(cpu map[string]float64) float64 {
	var n float64
	for _, v := range cpu {
		n += v
	}
	return n
}

// formatCPU lists kinds by CPU time, largest first, with the given decimals.
func formatCPU(cpu map[string]float64, decimals int) string {
	kinds := make([]string, 0, len(cpu))
	for k := range cpu {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return cpu[kinds[i]] > cpu[kinds[j]] })
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %.*f", k, decimals, cpu[k]))
	}
	return strings.Join(parts, ", ")
}

// apiServerRequests reads apiserver_request_total of the shared kube-apiserver,
// summed by resource/subresource, verb and code.
func apiServerRequests(b *testing.B) map[string]float64 {
	cfg := rest.CopyConfig(harness.Config().Config)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/metrics", nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatalf("failed to read the API server's metrics: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		b.Fatalf("failed to parse the API server's metrics: %v", err)
	}
	out := map[string]float64{}
	for _, m := range families["apiserver_request_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		what := labels["resource"]
		if labels["subresource"] != "" {
			what += "/" + labels["subresource"]
		}
		out[fmt.Sprintf("%s %s %s", labels["verb"], what, labels["code"])] += m.GetCounter().GetValue()
	}
	return out
}

// topRequests lists the n most frequent requests counted between two
// readings of apiServerRequests.
func topRequests(before, after map[string]float64, n int) string {
	type count struct {
		what string
		n    float64
	}
	var counts []count
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			counts = append(counts, count{k, d})
		}
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i].n > counts[j].n })
	var parts []string
	for i := 0; i < n && i < len(counts); i++ {
		parts = append(parts, fmt.Sprintf("%s %.0f", counts[i].what, counts[i].n))
	}
	return strings.Join(parts, ", ")
}
