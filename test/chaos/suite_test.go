package chaos

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// full says whether this is `make chaos` (CHAOS_FULL=1): several runs per
// scenario and the long outages.
func full() bool { return os.Getenv("CHAOS_FULL") != "" }

// runs is how many times each scenario runs.
func runs() int {
	if full() {
		return 3
	}
	return 1
}

// converge is how long the supervisor has to converge once the faults
// stop: retries after failures run on backoff, so longer than
// harness.Timeout, which is for reacting to a change.
const converge = 3 * time.Minute

// serial numbers what a scenario run makes on loopback (address ranges).
var serial atomic.Int32

// guestPorts are the suite's simulated guest API server ports.
var guestPorts = [2]int32{35000, 35999}

// workloadRange is a workload network range of the suite's own.
func workloadRange(n int32) []string {
	return []string{fmt.Sprintf("127.48.%d.10-127.48.%d.250", n, n)}
}

// scenario is one run's account: faults injected and invariant violations.
type scenario struct {
	t          *testing.T
	name       string
	faults     atomic.Int64
	mu         sync.Mutex
	violations []string
	notes      []string
}

// runScenario runs body runs() times as subtests and records each run.
func runScenario(t *testing.T, name string, body func(s *scenario)) {
	for i := range runs() {
		t.Run(fmt.Sprintf("run%d", i+1), func(t *testing.T) {
			s := &scenario{t: t, name: name}
			defer results.add(s)
			body(s)
		})
	}
}

// fault counts n injected faults.
func (s *scenario) fault(n int, what string) {
	s.faults.Add(int64(n))
	s.t.Logf("fault injected (%d): %s", n, what)
}

// violate records a broken invariant and fails the test.
func (s *scenario) violate(format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	s.t.Errorf("invariant violated: %s", msg)
}

// note records an observation for the report that is not a violation.
func (s *scenario) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.notes = append(s.notes, msg)
	s.mu.Unlock()
	s.t.Log(msg)
}

// converged waits for cond; when it does not hold in time that is a
// violation ("every object converged") and the run stops.
func (s *scenario) converged(timeout time.Duration, what string, cond wait.Condition) {
	s.t.Helper()
	start := time.Now()
	if err := wait.Poll(context.Background(), wait.Interval, timeout, what, cond); err != nil {
		s.violate("not converged: %v", err)
		s.t.FailNow()
	}
	s.t.Logf("%s: %s", what, time.Since(start).Round(10*time.Millisecond))
}

// must stops the run on an error of the test's own making.
func (s *scenario) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// noSecretsInLogs checks the supervisor's log for each secret (by what it
// is, for the message). A PEM private key is looked for by pieces of its
// body and of its base64 encoding, as a Secret's data would show it.
func (s *scenario) noSecretsInLogs(secrets map[string]string) {
	s.t.Helper()
	logs := map[string][]byte{}
	b, err := os.ReadFile(supervisorLog)
	s.must(err)
	logs[supervisorLog] = b
	for what, secret := range secrets {
		for path, content := range logs {
			for _, needle := range secretNeedles(secret) {
				if strings.Contains(string(content), needle) {
					s.violate("%s found in %s", what, path)
					break
				}
			}
		}
	}
}

// noSecretsInFile is noSecretsInLogs for another log the supervisor's
// fixtures wrote (HAProxy's).
func (s *scenario) noSecretsInFile(path string, secrets map[string]string) {
	s.t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	s.must(err)
	for what, secret := range secrets {
		for _, needle := range secretNeedles(secret) {
			if strings.Contains(string(b), needle) {
				s.violate("%s found in %s", what, path)
				break
			}
		}
	}
}

// secretNeedles are the strings whose presence shows secret leaked.
func secretNeedles(secret string) []string {
	if secret == "" {
		return nil
	}
	if !strings.Contains(secret, "-----BEGIN") {
		return []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))}
	}
	var out []string
	for _, line := range strings.Split(secret, "\n") {
		if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
			if len(out) == 3 {
				break
			}
		}
	}
	enc := base64.StdEncoding.EncodeToString([]byte(secret))
	if len(enc) > 120 {
		out = append(out, enc[60:120])
	}
	return out
}

// vCenterVMs are the VMs in vCenter whose name starts with prefix, by name
// with their count (a name seen twice is a VM cloned twice).
func vCenterVMs(ctx context.Context, h *harness.Harness, prefix string) (map[string]int, error) {
	vms, err := vCenterVMList(ctx, h, prefix)
	out := map[string]int{}
	for _, vm := range vms {
		out[vm.Name]++
	}
	return out, err
}

// vCenterVMList are the VMs in vCenter whose name starts with prefix, with
// their name and power state.
func vCenterVMList(ctx context.Context, h *harness.Harness, prefix string, props ...string) ([]mo.VirtualMachine, error) {
	c := h.Sim.Client.Client
	m := view.NewManager(c)
	v, err := m.CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return nil, err
	}
	defer func() { _ = v.Destroy(ctx) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, append([]string{"name", "runtime.powerState"}, props...), &vms); err != nil {
		return nil, err
	}
	var out []mo.VirtualMachine
	for _, vm := range vms {
		if strings.HasPrefix(vm.Name, prefix) {
			out = append(out, vm)
		}
	}
	return out, nil
}

// noDuplicateVMs checks that no VM name under prefix is in vCenter twice.
func (s *scenario) noDuplicateVMs(h *harness.Harness, prefix string) map[string]int {
	s.t.Helper()
	vms, err := vCenterVMs(context.Background(), h, prefix)
	s.must(err)
	for name, n := range vms {
		if n > 1 {
			s.violate("VM %s is in vCenter %d times", name, n)
		}
	}
	return vms
}

// noAllocationsLeft checks that no IP address allocation is held for an
// object of the test's namespace.
func (s *scenario) noAllocationsLeft(h *harness.Harness) {
	s.t.Helper()
	var list vspherev1.IPAddressAllocationList
	s.must(h.Client.List(context.Background(), &list))
	for _, a := range list.Items {
		if a.Spec.Owner.Namespace == h.Namespace {
			s.violate("IP address %s still allocated to %s %s after delete", a.Spec.Address, a.Spec.Owner.Kind, a.Spec.Owner.Name)
		}
	}
}

// countList is how many objects of list's kind the test's namespace holds.
func countList(h *harness.Harness, list client.ObjectList) (int, error) {
	if err := h.Client.List(context.Background(), list, client.InNamespace(h.Namespace)); err != nil {
		return 0, err
	}
	return meta.LenList(list), nil
}

// terminateSessions ends every vCenter session but the simulator's own
// admin client's, as an administrator (or a vCenter restart) would, and
// returns how many it ended.
func terminateSessions(ctx context.Context, h *harness.Harness) (int, error) {
	c := h.Sim.Client.Client
	mine, err := session.NewManager(c).UserSession(ctx)
	if err != nil {
		return 0, err
	}
	var sm mo.SessionManager
	if err := property.DefaultCollector(c).RetrieveOne(ctx, *c.ServiceContent.SessionManager, []string{"sessionList"}, &sm); err != nil {
		return 0, err
	}
	var keys []string
	for _, us := range sm.SessionList {
		if mine == nil || us.Key != mine.Key {
			keys = append(keys, us.Key)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	return len(keys), session.NewManager(c).TerminateSession(ctx, keys)
}

// results are every run's, by scenario, for bench/RESULTS.md.
var results = &table{}

type table struct {
	mu   sync.Mutex
	rows map[string]*row
}

type row struct {
	runs, faults int64
	violations   []string
	notes        []string
}

func (t *table) add(s *scenario) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rows == nil {
		t.rows = map[string]*row{}
	}
	r := t.rows[s.name]
	if r == nil {
		r = &row{}
		t.rows[s.name] = r
	}
	r.runs++
	r.faults += s.faults.Load()
	s.mu.Lock()
	r.violations = append(r.violations, s.violations...)
	r.notes = append(r.notes, s.notes...)
	if s.t.Failed() && len(s.violations) == 0 {
		r.violations = append(r.violations, "the run failed before its invariants were checked (see the test log)")
	}
	s.mu.Unlock()
}

func (t *table) any() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.rows) > 0
}

// markdown is the results section.
func (t *table) markdown() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "## Fault suite (`make chaos`)\n\n- Date: %s\n- Machine: %d CPUs (runtime.NumCPU), %s/%s, %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	b.WriteString("- Command: `make chaos` (`CHAOS_FULL=1 go test -count=1 -timeout 60m -v ./test/chaos/`); `make test` runs one short run of each\n\n")
	b.WriteString("| scenario | runs | faults injected | invariant violations |\n|---|---:|---:|---:|\n")
	names := make([]string, 0, len(t.rows))
	for n := range t.rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := t.rows[n]
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", n, r.runs, r.faults, len(r.violations))
	}
	for _, n := range names {
		r := t.rows[n]
		if len(r.violations) == 0 && len(r.notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n\n", n)
		for _, v := range dedupe(r.violations) {
			if len(v) > 400 {
				v = v[:400] + " …"
			}
			fmt.Fprintf(&b, "- violation: %s\n", v)
		}
		for _, v := range dedupe(r.notes) {
			fmt.Fprintf(&b, "- %s\n", v)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// writeSection puts section between the name's markers of
// bench/RESULTS.md, replacing what was there and keeping other sections
// (as test/bench writes its own).
func writeSection(name, section string) (string, error) {
	sectionStart, sectionEnd := "<!-- "+name+":start -->", "<!-- "+name+":end -->"
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "..", "..", "bench", "RESULTS.md")
	block := sectionStart + "\n" + section + sectionEnd + "\n"
	old, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := string(old)
	i, j := strings.Index(s, sectionStart), strings.Index(s, sectionEnd)
	var out string
	if i >= 0 && j > i {
		out = s[:i] + block + strings.TrimPrefix(s[j+len(sectionEnd):], "\n")
	} else {
		out = strings.TrimRight(s, "\n") + "\n\n" + block
	}
	return path, os.WriteFile(path, []byte(out), 0o644)
}
