package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/haproxytech/client-native/v6/configuration"
	cfgopts "github.com/haproxytech/client-native/v6/configuration/options"
	"github.com/haproxytech/client-native/v6/models"
)

// Userlist is the haproxy.cfg userlist the Data Plane API users come from.
const Userlist = "controller"

// Options configure an appliance.
type Options struct {
	// Dir holds haproxy.cfg, sockets, haproxy.log and transactions.
	Dir string
	// Listen is the Data Plane API address; 127.0.0.1:0 when empty.
	Listen string
	// APIVersion is the wire format served, "v3" (default) or "v2"; the
	// other major's paths answer 404, as on the real servers.
	APIVersion string
	// Username and Password of the Data Plane API user (written to the userlist).
	Username, Password string
	// ReloadDelay coalesces reloads; 1 s when zero.
	ReloadDelay time.Duration
	// HAProxyBin is the haproxy binary; found on PATH (or /usr/sbin) when empty.
	HAProxyBin string
	// CertFile and KeyFile serve the API over TLS when set (see WriteSelfSignedTLS).
	CertFile, KeyFile string
	// Log receives failed reloads; slog's default logger when unset.
	Log logr.Logger
	// ReloadReport is how reloads are reported under /reloads:
	// ReportLoadOutcome (the default) or ReportSignalSent.
	ReloadReport ReloadReport
}

// ReloadReport is what a reload's status under /reloads tells.
type ReloadReport string

const (
	// ReportLoadOutcome reports whether HAProxy loaded the configuration,
	// as read from the master CLI: a configuration the new process could
	// not apply (a VIP:port another process holds) is a failed reload.
	ReportLoadOutcome ReloadReport = "load-outcome"
	// ReportSignalSent behaves as the real Data Plane API does with a
	// signal reload command (the vSphere appliance's systemctl reload) on
	// HAProxy 2.6: the reload succeeded as soon as the signal was sent,
	// whatever HAProxy then made of the configuration. A configuration it
	// could not apply leaves the previous process running its previous
	// configuration, and only the runtime endpoints (stats/native,
	// runtime/info) show it.
	ReportSignalSent ReloadReport = "signal-sent"
)

// Appliance is a running HAProxy with its Data Plane API endpoint.
type Appliance struct {
	opts    Options
	log     logr.Logger
	cfgPath string
	logPath string
	sock    string
	conf    configuration.Configuration
	// runtime reads the running worker through the stats socket, as the
	// real server does (the master socket answers no stats on 2.6).
	runtime runtimeAPI
	haproxy *exec.Cmd
	server  *http.Server
	// URL of the Data Plane API, e.g. http://127.0.0.1:5556.
	URL string

	// reloading serializes reloads: the master takes one at a time.
	reloading sync.Mutex

	mu sync.Mutex
	// pending is the reload the current window's changes wait for.
	pending *models.Reload
	// history holds the latest reloads, oldest first, for /reloads.
	history []*models.Reload
	// reloads counts reloads run, seq numbers reload IDs.
	reloads, seq int

	stop chan struct{}
	done chan struct{}
}

// Start writes the initial configuration, starts HAProxy and serves the API.
func Start(ctx context.Context, opts Options) (*Appliance, error) {
	if opts.ReloadDelay == 0 {
		opts.ReloadDelay = time.Second
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	switch opts.ReloadReport {
	case "":
		opts.ReloadReport = ReportLoadOutcome
	case ReportLoadOutcome, ReportSignalSent:
	default:
		return nil, fmt.Errorf("unsupported reload report %q, want %s or %s", opts.ReloadReport, ReportLoadOutcome, ReportSignalSent)
	}
	switch opts.APIVersion {
	case "":
		opts.APIVersion = "v3"
	case "v2", "v3":
	default:
		return nil, fmt.Errorf("unsupported Data Plane API version %q, want v3 or v2", opts.APIVersion)
	}
	if opts.HAProxyBin == "" {
		bin, err := exec.LookPath("haproxy")
		if err != nil {
			bin = "/usr/sbin/haproxy"
		}
		opts.HAProxyBin = bin
	}
	log := opts.Log
	if log.GetSink() == nil {
		log = logr.FromSlogHandler(slog.Default().Handler())
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "transactions"), 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the appliance directory: %w", err)
	}
	a := &Appliance{
		opts: opts, log: log.WithValues("appliance", opts.Dir),
		cfgPath: filepath.Join(opts.Dir, "haproxy.cfg"),
		logPath: filepath.Join(opts.Dir, "haproxy.log"),
		sock:    filepath.Join(opts.Dir, "master.sock"),
		runtime: runtimeAPI{sock: filepath.Join(opts.Dir, "haproxy.sock")},
		stop:    make(chan struct{}), done: make(chan struct{}),
	}
	go a.reloadLoop()
	if err := os.WriteFile(a.cfgPath, []byte(initialConfig(opts)), 0o600); err != nil {
		a.Stop()
		return nil, fmt.Errorf("failed to write %s: %w", a.cfgPath, err)
	}
	// With HAProxyBin set, client-native runs haproxy -c on every commit.
	conf, err := configuration.New(ctx,
		cfgopts.ConfigurationFile(a.cfgPath),
		cfgopts.HAProxyBin(opts.HAProxyBin),
		cfgopts.TransactionsDir(filepath.Join(opts.Dir, "transactions")),
		cfgopts.UseModelsValidation,
	)
	if err != nil {
		a.Stop()
		return nil, fmt.Errorf("failed to open %s: %w", a.cfgPath, err)
	}
	a.conf = conf

	a.haproxy = exec.Command(opts.HAProxyBin, "-W", "-S", a.sock, "-f", a.cfgPath)
	logFile, err := os.Create(a.logPath)
	if err != nil {
		a.Stop()
		return nil, fmt.Errorf("failed to create %s: %w", a.logPath, err)
	}
	defer logFile.Close() // HAProxy holds its own descriptor.
	a.haproxy.Stdout, a.haproxy.Stderr = logFile, logFile
	a.haproxy.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := a.haproxy.Start(); err != nil {
		a.Stop()
		return nil, fmt.Errorf("failed to start haproxy: %w", err)
	}

	// Until the master answers on its socket it has no SIGUSR2 handler, and a
	// reload signal would kill it.
	if err := a.waitForMaster(10 * time.Second); err != nil {
		a.Stop()
		return nil, err
	}

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		a.Stop()
		return nil, fmt.Errorf("failed to listen for the Data Plane API: %w", err)
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

// ConfigPath is the haproxy.cfg the appliance manages.
func (a *Appliance) ConfigPath() string { return a.cfgPath }

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
