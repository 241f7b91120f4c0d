package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/embedded"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/test/tb"
)

// Embedded is a whole embedded supervisor started in the test's process,
// as `make run` starts it: Workload Management enabled through the REST
// API and ns1 created.
type Embedded struct {
	Stack   *embedded.Stack
	Manager ctrl.Manager
	// HTTP trusts the stack's vCenter URL (the front serving the REST API).
	HTTP *http.Client
	// URL is the stack's vCenter URL without /sdk.
	URL string
}

// StartEmbedded starts the embedded stack and its manager with the
// client limits main.go gives it, and waits until the supervisor is ready.
// Cleanup stops both.
func StartEmbedded(t tb.TB, opts embedded.Options) *Embedded {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	stack, err := embedded.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	mgrOpts, err := clusterapi.ManagerOptions(ctrl.Options{
		Scheme: api.NewScheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		WebhookServer: stack.WebhookServer(),
	})
	if err != nil {
		cancel()
		stack.Stop()
		t.Fatal(err)
	}
	// The package's Main runs Cluster API in this process already.
	mgrOpts.Controller.SkipNameValidation = ptr.To(true)
	cfg := rest.CopyConfig(stack.Config)
	cfg.QPS, cfg.Burst = clusterapi.ClientQPS+20, clusterapi.ClientBurst+30
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		cancel()
		stack.Stop()
		t.Fatal(err)
	}
	if _, err := stack.Setup(ctx, mgr, manager.Options{VSphere: vsphere.Options{Sessions: session.NewCache(), Concurrency: 32}, HAProxyReloadEvery: lbcontroller.DefaultReloadEvery}); err != nil {
		cancel()
		stack.Stop()
		t.Fatal(err)
	}
	// stopped closes once the manager has returned, with its error in
	// startErr: both the wait below and the cleanup read it.
	stopped := make(chan struct{})
	var startErr error
	go func() { startErr = mgr.Start(ctx); close(stopped) }()
	t.Cleanup(func() {
		cancel()
		<-stopped
		stack.Stop()
	})
	select {
	case <-stack.Ready():
	case <-stopped:
		t.Fatalf("the manager stopped: %v", startErr)
	case <-time.After(5 * time.Minute):
		t.Fatal("the embedded supervisor was not ready in 5 minutes")
	}
	base, ca := stack.VCenterURL()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 32,
	}}
	return &Embedded{Stack: stack, Manager: mgr, HTTP: hc, URL: base}
}
