package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/embedded/kube"
)

// supervisor is the running embedded stack shared by the tests.
var supervisor struct {
	client client.Client
	dir    string
	log    string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "supervisor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	stop, err := start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	stop()
	if code != 0 {
		if b, err := os.ReadFile(supervisor.log); err == nil {
			printFailureLog(string(b))
		}
	}
	return code
}

// start builds the binary, starts it with --embedded and waits for
// "Supervisor ready".
func start(dir string) (stop func(), err error) {
	assets, err := kube.FindAssets()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "supervisor")
	build := exec.Command("go", "build", "-o", bin, "github.com/open-supervisor/supervisor")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building the supervisor: %w", err)
	}
	supervisor.dir = filepath.Join(dir, "state")
	supervisor.log = filepath.Join(dir, "supervisor.log")
	logFile, err := os.Create(supervisor.log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--embedded", "--state-dir", supervisor.dir, "--assets-dir", assets, "--boot-delay", "0", "--guest-api-ports", "31000-31999",
		"--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		logFile.Close()
	}
	ready := make(chan struct{})
	go func() {
		s := bufio.NewScanner(stdout)
		signalled := false
		for s.Scan() {
			fmt.Fprintln(logFile, s.Text())
			if !signalled && strings.Contains(s.Text(), "Supervisor ready") {
				close(ready)
				signalled = true
			}
		}
		_, _ = io.Copy(logFile, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(3 * time.Minute):
		stop()
		// Its last lines are the shutdown's, which say nothing of why.
		b, _ := os.ReadFile(supervisor.log)
		printFailureLog(string(b))
		return nil, fmt.Errorf("the supervisor did not get ready in 3 minutes (its errors and its log before the stop are above)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(supervisor.dir, "kubeconfig"))
	if err != nil {
		stop()
		return nil, err
	}
	if supervisor.client, err = client.New(cfg, client.Options{Scheme: api.NewScheme()}); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// printFailureLog prints what explains a failure: the supervisor's last
// errors and its last lines before it was told to stop (the shutdown's own
// lines say nothing about the failure).
func printFailureLog(log string) {
	if i := strings.Index(log, "Stopping and waiting for non leader election runnables"); i > 0 {
		log = log[:i]
	}
	var errs []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"level":"error"`) {
			errs = append(errs, l)
		}
	}
	fmt.Fprintf(os.Stderr, "--- supervisor errors (last 40) ---\n%s\n", lastLines(strings.Join(errs, "\n"), 40))
	fmt.Fprintf(os.Stderr, "--- supervisor log before the stop (last 60 lines) ---\n%s\n", lastLines(log, 60))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
