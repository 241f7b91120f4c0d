package harness

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/open-supervisor/supervisor/api"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/embedded/guestsim"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere"
	"github.com/open-supervisor/supervisor/providers/vsphere/catalog"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
	"github.com/open-supervisor/supervisor/templates"
	"github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/tb"
	"github.com/open-supervisor/supervisor/test/wait"
)

var (
	env    *kube.Environment
	scheme = api.NewScheme()
	serial atomic.Int64
)

// Main starts the shared kube-apiserver for a test binary; call it from TestMain.
// SUPERVISOR_TEST_LOG=1 shows the managers' logs, =5 with their V(5) lines
// (each reconcile and its result).
func Main(m tb.M) {
	if os.Getenv("SUPERVISOR_TEST_LOG") == "5" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapcore.Level(-5)), func(o *zap.Options) { o.TimeEncoder = zapcore.RFC3339NanoTimeEncoder }))
	} else if os.Getenv("SUPERVISOR_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true), func(o *zap.Options) { o.TimeEncoder = zapcore.RFC3339NanoTimeEncoder }))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	var err error
	if env, err = kube.StartWith(kube.Options{ClusterAPI: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stopPlatform, err := startPlatform()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	stopPlatform()
	_ = env.Stop()
	os.Exit(code)
}

// startPlatform runs, for the whole test binary, what every test shares:
// the admission webhooks (ours and Cluster API's, with conversion) and
// Cluster API's controllers, on a manager of their own with Cluster API's
// client limits. Tests start and stop many managers, and only one can
// serve the port the API server calls; Cluster API's cache set-up may
// happen once per process.
func startPlatform() (stop func(), err error) {
	opts, err := clusterapi.ManagerOptions(ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, WebhookServer: env.WebhookServer(),
	})
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = clusterapi.ClientQPS, clusterapi.ClientBurst
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, err
	}
	// Releases are cluster-wide: published once, Ready once any test's
	// catalog has published their images.
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := manager.Setup(ctx, mgr, manager.Options{
		Parts: []manager.Part{manager.Webhooks, manager.ClusterAPI, manager.Releases},
		// Simulated guests answer within seconds; don't wait 30 s between tries.
		ConnectionRetryInterval: time.Second,
	}); err != nil {
		cancel()
		return nil, err
	}
	stopManager, err := envtest.StartManager(ctx, mgr)
	if err != nil {
		cancel()
		return nil, err
	}
	return func() { stopManager(); cancel() }, nil
}

// Options tune a test's supervisor.
type Options struct {
	// BootDelay is how long simulated guests take to report their IP.
	BootDelay time.Duration
	// AddressRanges of the test's workload network; a /24 of loopback when nil.
	AddressRanges []string
	// GuestClusters runs the simulated guest boot (embedded/guestsim) in the
	// managers, so guest clusters of TanzuKubernetesClusters come up.
	GuestClusters bool
	// GuestPorts are the first and last loopback port of the simulated
	// guest API servers; the harness's own range when zero. A test binary
	// that runs beside test/integration's (make test runs packages in
	// parallel) takes a range of its own.
	GuestPorts [2]int32
}

// Timeout is how long tests on the harness wait for the supervisor to
// react to a change: a VM to become ready, a VIP to be handed out, a
// finalizer to run.
const Timeout = 30 * time.Second

// Guest API servers of the harness's simulated guests; other processes
// (make run, the e2e binary, guestsim's own tests) use other ranges.
const guestMinPort, guestMaxPort = 30200, 30999

// Harness is one test's supervisor.
type Harness struct {
	T tb.TB
	// Client talks to the API server directly (no cache).
	Client client.Client
	// Sim is the test's vCenter.
	Sim *vcsim.Simulator
	// Namespace is the test's vSphere Namespace.
	Namespace string
	// Network is the test's WorkloadNetwork name.
	Network      string
	StorageClass string
	Image        string
	opts         Options
}

// New starts a vCenter simulator and the test's namespace, network and
// storage class. Managers are started with StartManager.
func New(t tb.TB, opts Options) *Harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := serial.Add(1)
	h := &Harness{
		T:            t,
		opts:         opts,
		Namespace:    fmt.Sprintf("t%d-%s", n, sanitize(t.Name())),
		Network:      fmt.Sprintf("t%d-workload", n),
		StorageClass: fmt.Sprintf("t%d-storage", n),
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	h.Client = c
	sim, err := vcsim.Start(ctx, vcsim.Options{BootDelay: opts.BootDelay})
	if err != nil {
		t.Fatal(err)
	}
	h.Sim = sim
	guestDone := make(chan struct{})
	go func() { defer close(guestDone); _ = sim.Guest.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-guestDone // its long poll must end before the server can close
		sim.Stop()
	})

	if opts.AddressRanges == nil {
		opts.AddressRanges = []string{fmt.Sprintf("127.21.%d.10-127.21.%d.250", n%250, n%250)}
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.Namespace, Labels: map[string]string{namespace.VSphereNamespaceLabel: "true"}}},
		&vspherev1.WorkloadNetwork{
			ObjectMeta: metav1.ObjectMeta{Name: h.Network},
			Spec: vspherev1.WorkloadNetworkSpec{
				PortGroup: vcsim.WorkloadPortGroup, AddressRanges: opts.AddressRanges, PrefixLength: 16, Gateway: "127.21.0.1",
			},
		},
		&storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: h.StorageClass},
			Provisioner: "csi.vsphere.vmware.com",
			Parameters:  map[string]string{virtualmachine.StorageClassDatastoreURLParameter: sim.DatastoreURL},
		},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, o := range objs[1:] {
			_ = c.Delete(context.Background(), o)
		}
	})
	if opts.GuestClusters {
		h.startGuests()
	}
	return h
}

// startGuests runs the simulated guests on a manager of their own: they
// are the VMs' insides, so they live on when a test restarts the
// supervisor's managers.
func (h *Harness) startGuests() {
	t := h.T
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: clusterapi.ControllerDefaults(config.Controller{SkipNameValidation: ptr.To(true)}),
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{h.Namespace: {}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ports := h.opts.GuestPorts
	if ports == [2]int32{} {
		ports = [2]int32{guestMinPort, guestMaxPort}
	}
	if _, err := guestsim.Setup(mgr, guestsim.Options{
		MinPort: ports[0], MaxPort: ports[1], EtcdServers: env.EtcdServers(), StateDir: t.TempDir(),
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// Manager is one running supervisor manager.
type Manager struct {
	Provider *vsphere.Provider
	stop     context.CancelFunc
	done     chan struct{}
}

// Stop stops the manager and waits for it to end.
func (m *Manager) Stop() {
	m.stop()
	<-m.done
}

// StartManager starts a manager with the VM service, the image catalog and
// the namespace controller, scoped to the test's namespace, with its own
// vCenter session. It waits until the manager's images are published and
// the namespace has its classes. Cleanup deletes the test's VMs first (so
// their VMs and addresses are released) and then stops it.
func (h *Harness) StartManager(sessions *session.Cache) *Manager {
	t := h.T
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: clusterapi.ControllerDefaults(config.Controller{SkipNameValidation: ptr.To(true)}),
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{h.Namespace: {}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sessions == nil {
		sessions = session.NewCache()
	}
	sup, err := manager.Setup(ctx, mgr, manager.Options{
		Parts: []manager.Part{manager.VMService, manager.Namespaces, manager.Infrastructure, manager.TanzuKubernetesClusters},
		VSphere: vsphere.Options{
			VCenter: session.Params{
				Server: h.Sim.URL.String(), Username: h.Sim.Username, Password: h.Sim.Password, CAFile: h.Sim.CAFile,
			},
			Inventory:      inventory.Config{Datacenter: vcsim.Datacenter, Cluster: vcsim.Cluster},
			DefaultNetwork: h.Network,
			ContentLibrary: vcsim.ContentLibrary,
			Sessions:       sessions,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := sup.VSphere
	m := &Manager{Provider: p, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v; goroutines:\n%s", err, managerStacks())
		}
	}()
	t.Cleanup(func() {
		h.deleteClusters()
		h.deleteVMs()
		m.Stop()
	})
	// Publish this simulator's images now: images left by an earlier test's
	// simulator name library items this one does not have.
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("manager cache did not sync")
	}
	if err := p.Images.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	h.Image = catalog.ImageName(templates.Releases[0].ImageName())
	wait.For(t, Timeout, "default classes installed", func() (bool, error) {
		var classes vmopv1.VirtualMachineClassList
		if err := h.Client.List(context.Background(), &classes, client.InNamespace(h.Namespace)); err != nil {
			return false, err
		}
		if want := len(namespace.DefaultClasses("")); len(classes.Items) < want {
			return false, fmt.Errorf("%d of %d classes", len(classes.Items), want)
		}
		return true, nil
	})
	return m
}

// ClusterDeleteTimeout is how long the harness's cleanup waits for a
// test's guest clusters to be deleted: Cluster API drains and deletes their
// Machines before their VMs go.
const ClusterDeleteTimeout = 3 * time.Minute

// deleteClusters deletes the test's TanzuKubernetesClusters and Cluster
// API Clusters and waits for them to go. It runs before deleteVMs: a VM
// deleted while its Machine lives is cloned again by its VSphereMachine.
func (h *Harness) deleteClusters() {
	ctx := context.Background()
	_ = h.Client.DeleteAllOf(ctx, &runv1alpha3.TanzuKubernetesCluster{}, client.InNamespace(h.Namespace))
	_ = h.Client.DeleteAllOf(ctx, &clusterv1.Cluster{}, client.InNamespace(h.Namespace))
	if err := wait.Poll(ctx, wait.Interval, ClusterDeleteTimeout, "the test's clusters to be deleted", func() (bool, error) {
		var tkcs runv1alpha3.TanzuKubernetesClusterList
		if err := h.Client.List(ctx, &tkcs, client.InNamespace(h.Namespace)); err != nil {
			return false, err
		}
		var clusters clusterv1.ClusterList
		if err := h.Client.List(ctx, &clusters, client.InNamespace(h.Namespace)); err != nil {
			return false, err
		}
		if len(tkcs.Items)+len(clusters.Items) > 0 {
			return false, fmt.Errorf("%d TanzuKubernetesClusters and %d Clusters left", len(tkcs.Items), len(clusters.Items))
		}
		return true, nil
	}); err != nil {
		h.T.Logf("cleanup: %v", err)
	}
}

// deleteVMs deletes the test's VMs and waits up to Timeout for their
// finalizers, so no VM outlives the test's managers. A VM still there then
// is left to the test's own assertions; the log says which wait ran out.
func (h *Harness) deleteVMs() {
	ctx := context.Background()
	_ = h.Client.DeleteAllOf(ctx, &vmopv1.VirtualMachine{}, client.InNamespace(h.Namespace))
	if err := wait.Poll(ctx, wait.Interval, Timeout, "the test's VirtualMachines to be deleted", func() (bool, error) {
		var vms vmopv1.VirtualMachineList
		if err := h.Client.List(ctx, &vms, client.InNamespace(h.Namespace)); err != nil {
			return false, err
		}
		if n := len(vms.Items); n > 0 {
			return false, fmt.Errorf("%d VirtualMachines left", n)
		}
		return true, nil
	}); err != nil {
		h.T.Logf("cleanup: %v", err)
	}
}

// Scheme is the scheme of every harness client.
func Scheme() *runtime.Scheme { return scheme }

// Config returns the shared API server's admin config.
func Config() *kube.Environment { return env }

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}
