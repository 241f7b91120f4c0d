package guestsim

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/open-supervisor/supervisor/embedded/kube"
)

// processStopTimeout is how long a guest's process has to exit after
// SIGTERM before it is killed.
const processStopTimeout = 10 * time.Second

// process is one running program of a guest's control plane
// (kube-apiserver, kube-controller-manager), its output in a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	// exited is closed once the process ended; err is then its exit error.
	exited  chan struct{}
	err     error
	logPath string
	logFile *os.File
}

// startProcess runs binary with args and extra environment, its output
// appended to logPath. The process gets SIGKILL when the thread that
// started it ends, which Go ties to the manager's process: a simulator
// killed without a chance to stop its guests leaves none running.
func startProcess(name, binary, logPath string, args, env []string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open the log of %s: %w", name, err)
	}
	p := &process{name: name, exited: make(chan struct{}), logPath: logPath, logFile: logFile}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// exitError returns why the process ended with the end of its log, or nil
// while it runs.
func (p *process) exitError() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); its log %s ends:\n%s", p.name, p.err, p.logPath, kube.LogTail(p.logPath, 15))
	default:
		return nil
	}
}

// stop ends the process: SIGTERM, then SIGKILL after processStopTimeout.
func (p *process) stop() error {
	if p == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(processStopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	var exitErr *exec.ExitError
	errs := []error{p.logFile.Close()}
	if p.err != nil && !errors.As(p.err, &exitErr) {
		errs = append(errs, p.err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("failed to stop %s: %w", p.name, err)
	}
	return nil
}
