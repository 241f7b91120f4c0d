package appliance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/haproxytech/client-native/v6/models"
)

// maxReloads bounds the history /reloads serves.
const maxReloads = 100

// Reloads returns how many times HAProxy was reloaded.
func (a *Appliance) Reloads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reloads
}

// Reload returns the reload with the given ID, or nil when unknown.
func (a *Appliance) Reload(id string) *models.Reload {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.history {
		if r.ID == id {
			c := *r
			return &c
		}
	}
	return nil
}

func (a *Appliance) reloadList() models.Reloads {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(models.Reloads, 0, len(a.history))
	for _, r := range a.history {
		c := *r
		out = append(out, &c)
	}
	return out
}

// newReload records a reload in progress; the caller holds a.mu.
func (a *Appliance) newReload() *models.Reload {
	a.seq++
	r := &models.Reload{ID: fmt.Sprintf("%s-%d", time.Now().Format("2006-01-02"), a.seq), Status: models.ReloadStatusInProgress}
	a.history = append(a.history, r)
	if len(a.history) > maxReloads {
		a.history = a.history[len(a.history)-maxReloads:]
	}
	return r
}

// scheduleReload asks for a reload at the end of the current window and
// returns the window's reload ID.
func (a *Appliance) scheduleReload() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = a.newReload()
	}
	return a.pending.ID
}

// reloadNow reloads inline (force_reload) and returns once HAProxy has
// finished loading. A configuration HAProxy refused is an error, which the
// Data Plane API answers with 500 after the commit, as it does when its
// reload command fails; with ReportSignalSent the signal's delivery is
// the outcome, as there.
func (a *Appliance) reloadNow() error {
	a.mu.Lock()
	r := a.newReload()
	a.mu.Unlock()
	if err := a.run(r); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Status == models.ReloadStatusFailed {
		return fmt.Errorf("failed to reload haproxy: %s", r.Response)
	}
	return nil
}

func (a *Appliance) reloadLoop() {
	defer close(a.done)
	t := time.NewTicker(a.opts.ReloadDelay)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			// Confirming a reload through the master CLI can outlast a tick,
			// which the ticker then drops: commits that arrived meanwhile
			// are reloaded right away instead of a whole delay later.
			for r := a.takePending(); r != nil; r = a.takePending() {
				start := time.Now()
				_ = a.run(r)
				if time.Since(start) < a.opts.ReloadDelay {
					break
				}
			}
		}
	}
}

// takePending returns the reload the window asked for, if any.
func (a *Appliance) takePending() *models.Reload {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.pending
	a.pending = nil
	return r
}

// run reloads HAProxy and records the outcome in r. It returns an error when
// the reload could not be asked for or its outcome is unknown; a
// configuration the new master refused is a failed reload, not an error, as
// the old workers keep serving (and the real API on 2.6 answers success).
//
// With ReportSignalSent the reload is recorded as succeeded once the
// signal is sent, as the real server records its reload command's exit
// code; the appliance still waits for the master before the next reload
// (a signal while it re-executes itself would kill it) and logs a refusal.
func (a *Appliance) run(r *models.Reload) error {
	a.reloading.Lock()
	defer a.reloading.Unlock()
	signalSent := func() {
		if a.opts.ReloadReport == ReportSignalSent {
			a.record(r, models.ReloadStatusSucceeded, "")
		}
	}
	status, response, err := a.reload(signalSent)
	if a.opts.ReloadReport != ReportSignalSent || r.Status == models.ReloadStatusInProgress {
		// The signal was never sent: no reload to report as succeeded.
		a.record(r, status, response)
	}
	a.mu.Lock()
	a.reloads++
	a.mu.Unlock()
	select {
	case <-a.stop:
		// Stopping cut the reload short; HAProxy is going away anyway.
	default:
		if status == models.ReloadStatusFailed {
			a.log.Error(err, "HAProxy failed to reload, the previous configuration keeps serving", "reloadID", r.ID, "response", response, "reported", r.Status)
		}
	}
	return err
}

// record sets a reload's outcome.
func (a *Appliance) record(r *models.Reload, status, response string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r.ReloadTimestamp = time.Now().Unix()
	r.Status, r.Response = status, response
}

// reload asks the master to load the new configuration (SIGUSR2): new
// workers take over the listeners, old ones finish their connections.
// HAProxy 2.6 gives no result for a signal, so the outcome comes from the
// master CLI: its reload counter moves once the new configuration is
// loaded or refused, and its failed counter is non-zero after a refusal.
// The refusal's reason is what HAProxy logged meanwhile.
//
// signalSent is called once the signal is sent.
func (a *Appliance) reload(signalSent func()) (status, response string, err error) {
	if a.haproxy == nil || a.haproxy.Process == nil {
		return models.ReloadStatusFailed, "haproxy is not running", errors.New("haproxy is not running")
	}
	before, err := showProc(a.sock, 2*time.Second)
	if err != nil {
		return models.ReloadStatusFailed, err.Error(), err
	}
	logStart := fileSize(a.logPath)
	if err := a.haproxy.Process.Signal(syscall.SIGUSR2); err != nil {
		err = fmt.Errorf("failed to signal haproxy's master: %w", err)
		return models.ReloadStatusFailed, err.Error(), err
	}
	signalSent()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The master re-executes itself; its socket answers again once the
		// new configuration is in place or refused. Meanwhile it may accept
		// a connection and never answer it, so each try is short.
		after, err := showProc(a.sock, 100*time.Millisecond)
		if err == nil && after.reloads > before.reloads {
			if after.failed == 0 {
				return models.ReloadStatusSucceeded, "", nil
			}
			return models.ReloadStatusFailed, alerts(a.logPath, logStart), nil
		}
		select {
		case <-a.stop:
			return models.ReloadStatusFailed, "the appliance stopped during the reload", nil
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			err := fmt.Errorf("haproxy's master did not report the reload within 30s (see %s)", a.logPath)
			return models.ReloadStatusFailed, err.Error(), err
		}
	}
}

// masterState is the master's line of "show proc".
type masterState struct {
	reloads, failed int
}

// showProc asks the master CLI for "show proc", whose output reads:
//
//	#<PID>  <type>  <reloads>     <uptime>     <version>
//	30781   master  1 [failed: 1] 0d00h10m23s  2.6.12-1+deb12u3
//	# workers
//	30784   worker  1             0d00h10m23s  2.6.12-1+deb12u3
//	# programs
func showProc(sock string, timeout time.Duration) (masterState, error) {
	out, err := masterCommand(sock, "show proc", timeout)
	if err != nil {
		return masterState{}, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[1] != "master" || f[3] != "[failed:" {
			continue
		}
		var st masterState
		st.reloads, err = strconv.Atoi(f[2])
		if err == nil {
			st.failed, err = strconv.Atoi(strings.TrimSuffix(f[4], "]"))
		}
		if err != nil {
			return masterState{}, fmt.Errorf("unexpected master line in show proc: %q", line)
		}
		return st, nil
	}
	return masterState{}, fmt.Errorf("no master line in show proc: %q", out)
}

// masterCommand sends one command to the master CLI. The answer ends with
// an empty line; the master does not always close the connection after it
// (it keeps it open while in wait mode after a failed reload).
func masterCommand(sock, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("unix", sock, timeout)
	if err != nil {
		return "", fmt.Errorf("failed to reach haproxy's master CLI: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return "", fmt.Errorf("failed to send %q to haproxy's master CLI: %w", cmd, err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for !bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if err == io.EOF && out.Len() > 0 {
				break
			}
			return "", fmt.Errorf("failed to read haproxy's answer to %q: %w", cmd, err)
		}
	}
	return out.String(), nil
}

func (a *Appliance) waitForMaster(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := showProc(a.sock, time.Second)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy's master did not answer on %s within %s (see %s): %w", a.sock, timeout, a.logPath, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// alerts returns the [ALERT] lines HAProxy logged from offset on (all new
// lines when there is none), e.g. "[ALERT] (30781) : Binding [haproxy.cfg:11]
// for frontend b: cannot bind socket (Address already in use) for [127.0.0.1:18082]".
func alerts(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "reload failed; " + err.Error()
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "reload failed; " + err.Error()
	}
	data, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "[ALERT]") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) == 0 {
		return strings.TrimSpace(string(data))
	}
	return strings.Join(lines, "\n")
}
