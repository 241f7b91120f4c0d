// Package appliance is the HAProxy appliance of the embedded supervisor and
// the tests: a real HAProxy (Debian's, master-worker mode) and an HTTP
// endpoint that follows the HAProxy Data Plane API v3 wire format for the
// calls lbapi makes (info, configuration version, transactions, frontends,
// binds, backends, servers), with the same status codes and version
// semantics, built on client-native's configuration package. The real Data
// Plane API server is not obtainable from our registries; production points
// lbapi at the real one on its appliance. Reloads are coalesced: commits
// within one reload delay share one reload.
package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/haproxytech/client-native/v6/configuration"
	cfgopts "github.com/haproxytech/client-native/v6/configuration/options"
)

// Userlist is the haproxy.cfg userlist the Data Plane API users come from.
const Userlist = "controller"

// Options configure an appliance.
type Options struct {
	// Dir holds haproxy.cfg, sockets and transactions.
	Dir string
	// Listen is the Data Plane API address; 127.0.0.1:0 when empty.
	Listen string
	// Username and Password of the Data Plane API user (written to the userlist).
	Username, Password string
	// ReloadDelay coalesces reloads; 1 s when zero.
	ReloadDelay time.Duration
	// HAProxyBin is the haproxy binary; found on PATH (or /usr/sbin) when empty.
	HAProxyBin string
	// CertFile and KeyFile serve the API over TLS when set.
	CertFile, KeyFile string
}

// Appliance is a running HAProxy with its Data Plane API endpoint.
type Appliance struct {
	opts    Options
	cfgPath string
	conf    configuration.Configuration
	haproxy *exec.Cmd
	server  *http.Server
	// URL of the Data Plane API, e.g. http://127.0.0.1:5556.
	URL string

	mu            sync.Mutex
	reloadPending bool
	reloadID      string
	reloads       int
	stop          chan struct{}
	done          chan struct{}
}

// Start writes the initial configuration, starts HAProxy and serves the API.
func Start(ctx context.Context, opts Options) (*Appliance, error) {
	if opts.ReloadDelay == 0 {
		opts.ReloadDelay = time.Second
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.HAProxyBin == "" {
		bin, err := exec.LookPath("haproxy")
		if err != nil {
			bin = "/usr/sbin/haproxy"
		}
		opts.HAProxyBin = bin
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "transactions"), 0o700); err != nil {
		return nil, err
	}
	a := &Appliance{opts: opts, cfgPath: filepath.Join(opts.Dir, "haproxy.cfg"), stop: make(chan struct{}), done: make(chan struct{})}
	go a.reloadLoop()
	if err := os.WriteFile(a.cfgPath, []byte(initialConfig(opts)), 0o600); err != nil {
		return nil, err
	}
	conf, err := configuration.New(ctx,
		cfgopts.ConfigurationFile(a.cfgPath),
		cfgopts.HAProxyBin(opts.HAProxyBin),
		cfgopts.TransactionsDir(filepath.Join(opts.Dir, "transactions")),
		cfgopts.UseModelsValidation,
	)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", a.cfgPath, err)
	}
	a.conf = conf

	a.haproxy = exec.Command(opts.HAProxyBin, "-W", "-S", filepath.Join(opts.Dir, "master.sock"), "-f", a.cfgPath)
	logFile, err := os.Create(filepath.Join(opts.Dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	a.haproxy.Stdout, a.haproxy.Stderr = logFile, logFile
	a.haproxy.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := a.haproxy.Start(); err != nil {
		return nil, fmt.Errorf("failed to start haproxy: %w", err)
	}

	// Until the master answers on its socket it has no SIGUSR2 handler, and a
	// reload signal would kill it.
	if err := waitForMaster(filepath.Join(opts.Dir, "master.sock"), 10*time.Second); err != nil {
		a.Stop()
		return nil, err
	}

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		a.Stop()
		return nil, err
	}
	a.server = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	scheme := "http"
	if opts.CertFile != "" {
		scheme = "https"
		go func() { _ = a.server.ServeTLS(ln, opts.CertFile, opts.KeyFile) }()
	} else {
		go func() { _ = a.server.Serve(ln) }()
	}
	a.URL = scheme + "://" + ln.Addr().String()
	return a, nil
}

// Stop stops the API and HAProxy.
func (a *Appliance) Stop() {
	select {
	case <-a.stop:
		return
	default:
		close(a.stop)
	}
	if a.server != nil {
		_ = a.server.Close()
	}
	<-a.done
	if a.haproxy != nil && a.haproxy.Process != nil {
		_ = syscall.Kill(-a.haproxy.Process.Pid, syscall.SIGTERM)
		waited := make(chan struct{})
		go func() { _ = a.haproxy.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-a.haproxy.Process.Pid, syscall.SIGKILL)
		}
	}
}

// Reloads returns how many times HAProxy was reloaded.
func (a *Appliance) Reloads() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reloads
}

// scheduleReload asks for a reload at the end of the current window and
// returns the window's reload ID.
func (a *Appliance) scheduleReload() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.reloadPending {
		a.reloadPending = true
		a.reloadID = fmt.Sprintf("%s-%d", time.Now().Format("2006-01-02"), a.reloads+1)
	}
	return a.reloadID
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
			a.mu.Lock()
			pending := a.reloadPending
			a.reloadPending = false
			if pending {
				a.reloads++
			}
			a.mu.Unlock()
			if pending {
				_ = a.reload()
			}
		}
	}
}

// reload asks the master to load the new configuration (SIGUSR2): new
// workers take over the listeners, old ones finish their connections.
func (a *Appliance) reload() error {
	if a.haproxy == nil || a.haproxy.Process == nil {
		return errors.New("haproxy is not running")
	}
	return a.haproxy.Process.Signal(syscall.SIGUSR2)
}

func waitForMaster(sock string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err == nil {
			_, _ = c.Write([]byte("show proc\n"))
			buf := make([]byte, 256)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if n > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("haproxy's master did not answer on %s within %s (see haproxy.log beside it)", sock, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func initialConfig(o Options) string {
	return fmt.Sprintf(`global
    stats socket %s mode 600 level admin
    pidfile %s

defaults unnamed_defaults_1
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m

userlist %s
    user %s insecure-password %s
`, filepath.Join(o.Dir, "haproxy.sock"), filepath.Join(o.Dir, "haproxy.pid"), Userlist, o.Username, o.Password)
}
