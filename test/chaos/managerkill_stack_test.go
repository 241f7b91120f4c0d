package chaos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/open-supervisor/supervisor/api"
	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/embedded/guestsim"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/tcptest"
	"github.com/open-supervisor/supervisor/test/wait"
)

// The manager-kill scenario's own loopback ranges and guest ports (the
// rest of the suite uses 127.48-127.50 and 35000-35999).
const (
	killNamespace     = "chaos-kill"
	killNetwork       = "chaos-kill-workload"
	killLoadBalancer  = "chaos-kill-haproxy"
	killStorageClass  = "k8s-storage" // what the seed TKC names
	killGuestMinPort  = 36000
	killGuestMaxPort  = 36999
	killWorkloadRange = "127.51.0.10-127.51.0.250"
	killVIPFirst      = "127.52.0.10"
	killVIPCount      = 60
)

// killStack is everything of a supervisor but its manager, living in the
// test process (vcsim and its guest-tools simulation, the simulated
// guests) or in processes the test started (etcd, kube-apiserver,
// kube-controller-manager, HAProxy and its Data Plane API): it survives the
// manager, which runs as a separate process from the built binary.
type killStack struct {
	t      *testing.T
	env    *kube.Environment
	client client.Client
	sim    *vcsim.Simulator
	app    *appliance.Appliance
	dir    string
	// lbPassword and lbCA are the Data Plane API's credentials and CA.
	lbPassword, lbCA string
	// args and env start the manager.
	binary string
	args   []string
	// secrets are what must never appear in the manager's logs, by what
	// they are.
	secrets map[string]string
	// manager is the running manager process (nil while killed).
	manager *managerProcess
	// logs are the manager processes' stdout+stderr files, one per start.
	logs []string
}

// startKillStack starts the stack and the objects a user (or Workload
// Management) would have made: a vSphere Namespace with the seed's storage
// class, a workload network, a LoadBalancer on the appliance.
func startKillStack(t *testing.T) *killStack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// Not t.TempDir: the manager's logs are kept when the run fails.
	dir, err := os.MkdirTemp("", "chaos-manager-kill-")
	if err != nil {
		t.Fatal(err)
	}
	s := &killStack{t: t, dir: dir, secrets: map[string]string{}}
	t.Cleanup(func() {
		needles := []string{dir}
		if s.env != nil && s.env.ControlPlane.Etcd != nil && s.env.ControlPlane.Etcd.DataDir != "" {
			needles = append(needles, s.env.ControlPlane.Etcd.DataDir)
		}
		killLeftovers(t, needles...)
		if t.Failed() {
			t.Logf("the manager's logs are kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	s.binary = harness.SupervisorBinary(t)

	// An API server of its own: the harness's runs Cluster API in the test
	// process, and here Cluster API must die with the manager.
	if s.env, err = kube.StartWith(kube.Options{ClusterAPI: true, StateDir: filepath.Join(s.dir, "kube")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.env.Stop() })
	if s.client, err = client.New(s.env.Config, client.Options{Scheme: api.NewScheme()}); err != nil {
		t.Fatal(err)
	}

	if s.sim, err = vcsim.Start(ctx, vcsim.Options{}); err != nil {
		t.Fatal(err)
	}
	guestDone := make(chan struct{})
	go func() { defer close(guestDone); _ = s.sim.Guest.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-guestDone // its long poll must end before the server can close
		s.sim.Stop()
	})
	s.secrets["the vCenter password"] = s.sim.Password

	lbPassword := randomSecret(t)
	s.secrets["the Data Plane API password"] = lbPassword
	appDir := filepath.Join(s.dir, "haproxy")
	if err := os.MkdirAll(appDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca, cert, key, err := appliance.WriteSelfSignedTLS(appDir)
	if err != nil {
		t.Fatal(err)
	}
	if s.app, err = appliance.Start(ctx, appliance.Options{Dir: appDir, Username: "lbapi", Password: lbPassword,
		CertFile: cert, KeyFile: key, ReloadDelay: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.app.Stop)

	s.lbPassword, s.lbCA = lbPassword, string(ca)
	s.startGuests(ctx)
	s.args = s.managerArgs()
	return s
}

// createObjects makes the vSphere Namespace, its storage class, the
// workload network and the LoadBalancer with its credentials, retrying
// each while the manager's admission webhooks do not answer yet.
func (s *killStack) createObjects(ctx context.Context) {
	t := s.t
	lbPassword, lbCA := s.lbPassword, s.lbCA
	host, port := appHostPort(t, s.app.URL)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: killNamespace, Labels: map[string]string{vspherev1.VSphereNamespaceLabel: "true"}}},
		&vspherev1.WorkloadNetwork{
			ObjectMeta: metav1.ObjectMeta{Name: killNetwork},
			Spec: vspherev1.WorkloadNetworkSpec{
				PortGroup: vcsim.WorkloadPortGroup, AddressRanges: []string{killWorkloadRange}, PrefixLength: 16, Gateway: "127.51.0.1",
			},
		},
		&storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: killStorageClass},
			Provisioner: "csi.vsphere.vmware.com",
			Parameters:  map[string]string{virtualmachine.StorageClassDatastoreURLParameter: s.sim.DatastoreURL},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: killNamespace, Name: "haproxy-credentials"},
			Data:       map[string][]byte{"username": []byte("lbapi"), "password": []byte(lbPassword)},
		},
		&lbv1.LoadBalancer{
			ObjectMeta: metav1.ObjectMeta{Name: killLoadBalancer},
			Spec: lbv1.LoadBalancerSpec{
				Provider: lbv1.ProviderHAProxy,
				HAProxy: lbv1.HAProxyConfig{
					Servers:                   []lbv1.DataPlaneAPIServer{{Host: host, Port: port}},
					CredentialsSecretRef:      lbv1.SecretReference{Namespace: killNamespace, Name: "haproxy-credentials"},
					CertificateAuthorityChain: lbCA,
				},
				AddressRanges: []lbv1.AddressRange{{Address: killVIPFirst, Count: killVIPCount}},
			},
		},
	}
	for _, o := range objs {
		wait.For(t, time.Minute, fmt.Sprintf("%T %s created", o, o.GetName()), func() (bool, error) {
			err := s.client.Create(ctx, o)
			return err == nil, err
		})
	}
}

// startGuests runs the simulated guests in the test process: they are the
// VMs' insides, so they live on when the manager dies.
func (s *killStack) startGuests(ctx context.Context) {
	t := s.t
	mgr, err := ctrl.NewManager(s.env.Config, ctrl.Options{
		Scheme: api.NewScheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: clusterapi.ControllerDefaults(config.Controller{SkipNameValidation: ptr.To(true)}),
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{killNamespace: {}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := guestsim.Setup(mgr, guestsim.Options{
		MinPort: killGuestMinPort, MaxPort: killGuestMaxPort, EtcdServers: s.env.EtcdServers(),
		AssetsDir: s.env.BinaryAssetsDirectory, StateDir: filepath.Join(s.dir, "guests"),
	}); err != nil {
		t.Fatal(err)
	}
	gctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(gctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// managerArgs are the manager's flags: out of cluster against the stack's
// API server (webhooks where the API server calls them, with envtest's
// certificate), vCenter and LoadBalancer, without leader election (a
// killed leader's lease would only delay its successor by its duration).
func (s *killStack) managerArgs() []string {
	t := s.t
	user, err := s.env.AddUser(envtest.User{Name: "supervisor", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	if key := user.Config().KeyData; len(key) > 0 {
		s.secrets["the manager's Kubernetes client key"] = string(key)
	}
	if tok := user.Config().BearerToken; tok != "" {
		s.secrets["the manager's Kubernetes token"] = tok
	}
	kubeconfigPath := filepath.Join(s.dir, "kubeconfig")
	passwordPath := filepath.Join(s.dir, "vc-password")
	for path, content := range map[string][]byte{kubeconfigPath: kubeconfig, passwordPath: []byte(s.sim.Password)} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w := s.env.WebhookOptions()
	return []string{
		"--kubeconfig=" + kubeconfigPath,
		"--metrics-bind-address=0",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", tcptest.FreePort(t)),
		fmt.Sprintf("--webhook-host=%s", w.Host), fmt.Sprintf("--webhook-port=%d", w.Port), "--webhook-cert-dir=" + w.CertDir,
		"--vc-server=" + s.sim.URL.String(), "--vc-username=" + s.sim.Username, "--vc-ca-file=" + s.sim.CAFile,
		"--vc-password-file=" + passwordPath,
		"--datacenter=" + vcsim.Datacenter, "--cluster=" + vcsim.Cluster, "--content-library=" + vcsim.ContentLibrary,
		"--default-network=" + killNetwork, "--load-balancer=" + killLoadBalancer,
		// Simulated guests answer within seconds, as in the embedded stack.
		"--cluster-connection-retry-interval=1s",
		// Everything the manager logs up to V(4), so that the secret check
		// reads more than the defaults show.
		"--zap-log-level=4",
	}
}

// probeURL is the manager's readiness endpoint.
func (s *killStack) probeURL() string {
	for _, a := range s.args {
		if v, ok := strings.CutPrefix(a, "--health-probe-bind-address="); ok {
			return "http://" + v + "/readyz"
		}
	}
	return ""
}

// managerProcess is one run of the manager binary.
type managerProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	log    *os.File
}

// startManager starts the manager binary and waits until it is ready
// (webhooks served), returning how long that took.
func (s *killStack) startManager() time.Duration {
	t := s.t
	t.Helper()
	start := time.Now()
	logPath := filepath.Join(s.dir, fmt.Sprintf("manager-%d.log", len(s.logs)+1))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.logs = append(s.logs, logPath)
	cmd := exec.Command(s.binary, s.args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		t.Fatal(err)
	}
	p := &managerProcess{cmd: cmd, exited: make(chan struct{}), log: f}
	go func() { p.err = cmd.Wait(); _ = f.Close(); close(p.exited) }()
	s.manager = p
	url := s.probeURL()
	wait.For(t, 2*time.Minute, "the manager ready (webhooks served)", func() (bool, error) {
		select {
		case <-p.exited:
			t.Fatalf("the manager exited: %v\n%s", p.err, logTail(logPath, 40))
		default:
		}
		resp, err := http.Get(url)
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("readyz: %s", resp.Status)
	})
	return time.Since(start)
}

// killManager sends the manager SIGKILL and waits for it to be gone.
func (s *killStack) killManager() {
	p := s.manager
	if p == nil {
		return
	}
	s.manager = nil
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stopManager stops the manager as a pod is stopped (SIGTERM, then
// SIGKILL if it lingers); Cleanup calls it too.
func (s *killStack) stopManager() {
	p := s.manager
	if p == nil {
		return
	}
	s.manager = nil
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

// vmCensus is one look at vCenter's VMs whose names start with prefix.
type vmCensus struct {
	byName map[string]int
	byUUID map[string][]string
}

// total is how many VMs the census found.
func (c vmCensus) total() int {
	n := 0
	for _, k := range c.byName {
		n += k
	}
	return n
}

// takeCensus lists vCenter's VMs named prefix* with their instance UUIDs,
// through the test's own session.
func (s *killStack) takeCensus(ctx context.Context, prefix string) (vmCensus, error) {
	c := s.sim.Client.Client
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return vmCensus{}, err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "config.instanceUuid"}, &vms); err != nil {
		return vmCensus{}, err
	}
	out := vmCensus{byName: map[string]int{}, byUUID: map[string][]string{}}
	for _, vm := range vms {
		if !strings.HasPrefix(vm.Name, prefix) {
			continue
		}
		out.byName[vm.Name]++
		if vm.Config != nil && vm.Config.InstanceUuid != "" {
			out.byUUID[vm.Config.InstanceUuid] = append(out.byUUID[vm.Config.InstanceUuid], vm.Name)
		}
	}
	return out, nil
}

// duplicateWatch takes a census of vCenter's VMs every interval until
// stopped and reports every name or instance UUID found more than once
// (once per name or UUID).
type duplicateWatch struct {
	checks int
	max    int
	stop   func()
}

func (s *killStack) watchDuplicates(sc *scenario, prefix string) *duplicateWatch {
	ctx, cancel := context.WithCancel(context.Background())
	d := &duplicateWatch{}
	var wg sync.WaitGroup
	wg.Add(1)
	reported := map[string]bool{}
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			c, err := s.takeCensus(ctx, prefix)
			if err == nil {
				d.checks++
				d.max = max(d.max, c.total())
				for name, n := range c.byName {
					if n > 1 && !reported["name/"+name] {
						reported["name/"+name] = true
						sc.violate("VM %s is in vCenter %d times", name, n)
					}
				}
				for uuid, names := range c.byUUID {
					if len(names) > 1 && !reported["uuid/"+uuid] {
						reported["uuid/"+uuid] = true
						sc.violate("instance UUID %s is held by %d VMs in vCenter (%s)", uuid, len(names), strings.Join(names, ", "))
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	d.stop = func() { cancel(); wg.Wait() }
	return d
}

// noSecretsInManagerLogs checks every manager log for every secret known
// to the test, and for any PEM private key at all.
func (s *killStack) noSecretsInManagerLogs(sc *scenario, more map[string]string) {
	secrets := map[string]string{}
	for k, v := range s.secrets {
		secrets[k] = v
	}
	for k, v := range more {
		secrets[k] = v
	}
	for _, path := range s.logs {
		b, err := os.ReadFile(path)
		sc.must(err)
		content := string(b)
		for what, secret := range secrets {
			for _, needle := range secretNeedles(secret) {
				if strings.Contains(content, needle) {
					sc.violate("%s found in the manager's log %s", what, filepath.Base(path))
					break
				}
			}
		}
		if strings.Contains(content, "PRIVATE KEY-----") {
			sc.violate("a PEM private key in the manager's log %s", filepath.Base(path))
		}
	}
}

// killLeftovers kills any process still running with dir in its command
// line once everything was stopped: the run's kube-apiserver, etcd and
// kube-controller-manager were once found still running after a failed run
// (their parent gone), which on a 2-core machine slows every later test.
func killLeftovers(t *testing.T, needles ...string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !slices.ContainsFunc(needles, func(n string) bool { return strings.Contains(string(b), n) }) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(p, "/proc/%d/cmdline", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		t.Logf("killing process %d left running: %.200s", pid, strings.ReplaceAll(string(b), "\x00", " "))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// logTail is the last lines of a log file.
func logTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	for i := range l {
		if len(l[i]) > 400 {
			l[i] = l[i][:400] + "…"
		}
	}
	return strings.Join(l, "\n")
}

// appHostPort is the appliance's Data Plane API address.
func appHostPort(t *testing.T, url string) (string, int32) {
	t.Helper()
	hostPort := strings.TrimPrefix(url, "https://")
	i := strings.LastIndex(hostPort, ":")
	var port int32
	if _, err := fmt.Sscan(hostPort[i+1:], &port); i < 0 || err != nil {
		t.Fatalf("appliance URL %q: %v", url, err)
	}
	return hostPort[:i], port
}

func randomSecret(t *testing.T) string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
