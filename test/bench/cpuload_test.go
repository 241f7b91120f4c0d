package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"

	"github.com/open-supervisor/supervisor/test/harness"
)

// cpuSeconds is the CPU time (user + system) used so far by this test
// process and by each kind of process it started (the shared
// kube-apiserver, the guests' kube-apiservers, etcd, kube-controller-manager,
// HAProxy), in seconds. Processes that already exited are not counted.
func cpuSeconds() map[string]float64 {
	out := map[string]float64{"test process": procCPU("/proc/self/stat")}
	self := strconv.Itoa(os.Getpid())
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		fields := statFields(p)
		if len(fields) < 13 || fields[1] != self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		kind := filepath.Base(args[0])
		if kind == "kube-apiserver" && guestPrefix.Match(cmdline) {
			kind = "guests' kube-apiserver"
		} else if kind == "kube-controller-manager" && guestPrefix.Match(cmdline) {
			kind = "guests' kube-controller-manager"
		}
		out[kind] += procCPU(p)
	}
	return out
}

// statFields are the fields of a /proc/<pid>/stat file after the command
// name (which may hold spaces): fields[1] is the parent's pid, fields[11]
// utime and fields[12] stime (proc(5) numbers them 4, 14 and 15).
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// procCPU reads utime + stime of a /proc/<pid>/stat file, in seconds
// (clock ticks of 1/100 s, as on every Linux this runs on).
func procCPU(path string) float64 {
	f := statFields(path)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// formatCPU lists kinds by CPU time, largest first.
func formatCPU(cpu map[string]float64) string {
	kinds := make([]string, 0, len(cpu))
	for k := range cpu {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return cpu[kinds[i]] > cpu[kinds[j]] })
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, cpu[k]))
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
