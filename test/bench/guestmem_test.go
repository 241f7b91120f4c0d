package bench

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// guestPrefix finds a guest control-plane process's cluster: the etcd
// prefix of its kube-apiserver, or the directory of its
// kube-controller-manager's kubeconfig.
var guestPrefix = regexp.MustCompile(`--etcd-prefix=/guests/([^/\s]+)/([^\s]+)|--kubeconfig=\S*/([^/\s]+)/system-kube-controller-manager\.kubeconfig`)

// guestMemory is the proportional set size (PSS: shared pages, such as the
// binaries' text, split among the processes that map them) of the
// simulated guests' control-plane processes, by cluster, in bytes.
func guestMemory() map[string]int64 {
	out := map[string]int64{}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		m := guestPrefix.FindSubmatch(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		if m == nil {
			continue
		}
		cluster := string(m[1]) + "-" + string(m[2])
		if len(m[3]) > 0 {
			cluster = string(m[3])
		}
		out[cluster] += pss(filepath.Join(filepath.Dir(p), "smaps_rollup"))
	}
	return out
}

// pss reads the Pss line of a smaps_rollup file, in bytes.
func pss(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "Pss:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// currentRSS is the test process's resident memory now, in bytes.
func currentRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
