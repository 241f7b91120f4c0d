package harness

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/tcpproxy"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
)

// LB is a test's HAProxy appliance, its LoadBalancer object and a manager
// running lbapi against it, scoped to the test's namespace.
type LB struct {
	h   *Harness
	App *appliance.Appliance
	// Object is the LoadBalancer as created.
	Object *lbv1.LoadBalancer
	// Forwarder stands between lbapi and the Data Plane API; Cut it to
	// take the API away.
	Forwarder  *Forwarder
	Reconciler *controller.Reconciler
	// Username and Password of the Data Plane API.
	Username, Password string
	stop               func()
	reloadEvery        time.Duration
}

// LBOptions tune StartLB.
type LBOptions struct {
	// Ranges of VIPs; required.
	Ranges []lbv1.AddressRange
	// APIVersion the appliance speaks: v3 (default) or v2.
	APIVersion string
	// ReloadDelay of the appliance; 200 ms when zero.
	ReloadDelay time.Duration
	// ReloadReport is how the appliance reports reloads: as HAProxy loaded
	// them (default) or, as the real Data Plane API with a signal reload,
	// always succeeded (appliance.ReportSignalSent).
	ReloadReport appliance.ReloadReport
	// ReloadEvery, when non-zero, has lbapi reload HAProxy itself with each
	// commit (force_reload), at most this often; zero leaves the reloads to
	// the appliance's ReloadDelay.
	ReloadEvery time.Duration
}

// StartLB starts an appliance serving its API over TLS, describes it in a
// LoadBalancer (credentials in a Secret of the test's namespace, the CA in
// the spec) and starts lbapi.
func (h *Harness) StartLB(o LBOptions) *LB {
	t := h.T
	t.Helper()
	ctx := context.Background()
	if o.ReloadDelay == 0 {
		o.ReloadDelay = 200 * time.Millisecond
	}
	dir := t.TempDir()
	ca, cert, key, err := appliance.WriteSelfSignedTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	l := &LB{h: h, Username: "lbapi", Password: "s3cret-" + h.Namespace, reloadEvery: o.ReloadEvery}
	l.App, err = appliance.Start(ctx, appliance.Options{Dir: dir, Username: l.Username, Password: l.Password, CertFile: cert, KeyFile: key,
		ReloadDelay: o.ReloadDelay, APIVersion: o.APIVersion, ReloadReport: o.ReloadReport})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.App.Stop)
	l.Forwarder, err = StartForwarder(strings.TrimPrefix(l.App.URL, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Forwarder.Cut)

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "haproxy-credentials"},
		Data:       map[string][]byte{"username": []byte(l.Username), "password": []byte(l.Password)},
	}
	if err := h.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	host, port := l.Forwarder.HostPort()
	l.Object = &lbv1.LoadBalancer{
		ObjectMeta: metav1.ObjectMeta{Name: h.Namespace},
		Spec: lbv1.LoadBalancerSpec{
			Provider: lbv1.ProviderHAProxy,
			HAProxy: lbv1.HAProxyConfig{
				Servers:                   []lbv1.DataPlaneAPIServer{{Host: host, Port: port}},
				CredentialsSecretRef:      lbv1.SecretReference{Namespace: h.Namespace, Name: secret.Name},
				CertificateAuthorityChain: string(ca),
			},
			AddressRanges: o.Ranges,
		},
	}
	if err := h.Client.Create(ctx, l.Object); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Client.Delete(context.Background(), l.Object) })
	l.StartController()
	return l
}

// StartController starts a manager running lbapi for this LoadBalancer.
func (l *LB) StartController() {
	t := l.h.T
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: clusterapi.ControllerDefaults(config.Controller{SkipNameValidation: ptr.To(true)}),
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{l.h.Namespace: {}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := manager.Setup(context.Background(), mgr, manager.Options{
		Parts: []manager.Part{manager.LoadBalancers}, LoadBalancer: l.Object.Name, RetryRejected: 2 * time.Second,
		HAProxyReloadEvery: l.reloadEvery,
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Reconciler = sup.LoadBalancers
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	var once sync.Once
	l.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(l.stop)
}

// StopController stops lbapi (HAProxy keeps serving).
func (l *LB) StopController() { l.stop() }

// RestartController stops lbapi and starts a fresh one (new allocator,
// new applier, empty caches).
func (l *LB) RestartController() {
	l.stop()
	l.StartController()
}

// Forwarder is a TCP forwarder on a fixed loopback port that a test can cut
// and restore.
type Forwarder struct {
	addr, target string
	mu           sync.Mutex
	fw           *tcpproxy.Forwarder
}

// StartForwarder forwards a free loopback port to target.
func StartForwarder(target string) (*Forwarder, error) {
	f := &Forwarder{addr: "127.0.0.1:0", target: target}
	if err := f.Start(); err != nil {
		return nil, err
	}
	f.addr = f.fw.Addr()
	return f, nil
}

// HostPort is where the forwarder listens.
func (f *Forwarder) HostPort() (string, int32) {
	host, port, _ := net.SplitHostPort(f.addr)
	var p int32
	_, _ = fmt.Sscan(port, &p)
	return host, p
}

// Start listens again after a Cut.
func (f *Forwarder) Start() error {
	fw, err := tcpproxy.Listen(f.addr, f.target)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.fw = fw
	f.mu.Unlock()
	return nil
}

// Cut closes the listener and every connection through it.
func (f *Forwarder) Cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fw != nil {
		f.fw.Close()
		f.fw = nil
	}
}
