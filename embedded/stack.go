package embedded

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/vmware/govmomi/vim25"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/wait"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/embedded/fixtures"
	"github.com/open-supervisor/supervisor/embedded/guestsim"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/internal/certs"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/providers/vsphere/catalog"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
	"github.com/open-supervisor/supervisor/server/vapi"
	"github.com/open-supervisor/supervisor/server/wcp"
	"github.com/open-supervisor/supervisor/templates"
)

// The embedded load balancer's VIPs, on loopback so that traffic through
// them really flows on this machine.
const (
	vipFirst = "127.30.0.10"
	vipCount = 240
)

// embeddedLoadBalancer names the embedded LoadBalancer and its Secret.
const (
	embeddedLoadBalancer = "haproxy-local"
	lbapiNamespace       = "lbapi-system"
)

// shifted is one of the embedded ranges' addresses moved by the stack's
// address offset.
func (s *Stack) shifted(addr string) string {
	a := netip.MustParseAddr(addr).As4()
	a[1] += byte(s.addressOffset)
	return netip.AddrFrom4(a).String()
}

// Options configure the embedded stack.
type Options struct {
	// StateDir receives the kubeconfig, the env file and HAProxy's files.
	StateDir string
	// AssetsDir holds kube-apiserver, kube-controller-manager and etcd
	// ("" finds bin/).
	AssetsDir string
	// BootDelay is how long a simulated guest takes to report its IP and
	// to boot Kubernetes.
	BootDelay time.Duration
	// GuestPorts are the simulated guest clusters' API server ports,
	// "<first>-<last>".
	GuestPorts string
	// AddressOffset moves the management, workload and VIP ranges
	// (127.10/127.20/127.30) up by this much in their second octet, so
	// that two stacks can run on one machine (tests beside `make run`).
	AddressOffset int
	// LoginRateLimits bound the login service's credential checks (per
	// user only when nil: behind HAProxy every login comes from one
	// address).
	LoginRateLimits *wcp.RateLimits
}

// Stack is vcsim, the Kubernetes control plane and the HAProxy appliance
// started for `make run`.
type Stack struct {
	// Config is the admin config of the stack's API server.
	Config *rest.Config
	sim    *vcsim.Simulator
	env    *kube.Environment
	lb     *appliance.Appliance
	lbCA   []byte
	lbPass string
	dir    string
	// bootDelay and guestPorts configure the simulated guests.
	bootDelay  time.Duration
	guestPorts [2]int32
	// addressOffset shifts the embedded address ranges (Options).
	addressOffset int
	loginLimits   *wcp.RateLimits
	// users are vCenter's users besides the administrator (users.go).
	users map[string]string
	// loginAddr is where the login service listens (the endpoint's 443);
	// loginTokens what its tokens claim.
	loginAddr   string
	loginTokens wcp.TokenOptions
	// front serves vCenter's URL for users: the Workload Management API
	// itself, every other path passed to the simulator.
	front    *http.Server
	frontURL string
	frontCA  []byte
	endpoint string
	// ready closes once the supervisor is ready; enableToRunning is how
	// long Workload Management took from the enable call to RUNNING.
	ready           chan struct{}
	enableToRunning time.Duration
}

// Start starts the simulator, the control plane and HAProxy, and creates
// the objects a fresh supervisor starts with. Stop stops them.
func Start(ctx context.Context, o Options) (*Stack, error) {
	log := ctrl.Log.WithName("embedded")
	dir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if o.AddressOffset < 0 || o.AddressOffset > 9 {
		return nil, fmt.Errorf("address offset %d: want 0 to 9", o.AddressOffset)
	}
	s := &Stack{dir: dir, bootDelay: o.BootDelay, addressOffset: o.AddressOffset, loginLimits: o.LoginRateLimits, ready: make(chan struct{})}
	if _, err := fmt.Sscanf(o.GuestPorts, "%d-%d", &s.guestPorts[0], &s.guestPorts[1]); err != nil {
		return nil, fmt.Errorf("--guest-api-ports %q: want <first>-<last>: %w", o.GuestPorts, err)
	}

	log.Info("Starting the vCenter simulator")
	s.users = newUsers()
	if s.sim, err = vcsim.Start(ctx, vcsim.Options{BootDelay: o.BootDelay, Users: s.users}); err != nil {
		return nil, err
	}
	log.Info("Starting etcd, kube-apiserver and kube-controller-manager")
	if s.env, err = kube.StartWith(kube.Options{AssetsDir: o.AssetsDir, StateDir: dir, ClusterAPI: true}); err != nil {
		s.Stop()
		return nil, err
	}
	log.Info("Starting HAProxy and its Data Plane API", "firstVIP", s.shifted(vipFirst), "vips", vipCount)
	if err := s.startAppliance(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	user, err := s.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("failed to create the admin user: %w", err)
	}
	s.Config = user.Config()
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		s.Stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), kubeconfig, 0o600); err != nil {
		s.Stop()
		return nil, err
	}

	return s, nil
}

// startFront serves the Workload Management API at the URL users take for
// vCenter's, passing every other path to the simulator, over TLS with a CA
// of its own (written beside the kubeconfig). The API uses the manager's
// client, as in production: reads from its cache, writes within its limit.
func (s *Stack) startFront(c client.Client, policies *storagepolicy.Cache) error {
	ca, err := certs.NewCA("open-supervisor vCenter front CA")
	if err != nil {
		return err
	}
	pair, err := ca.Issue([]net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"})
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(pair.Cert, pair.Key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "vcenter-ca.crt"), ca.PEM, 0o644); err != nil {
		return err
	}
	api := vapi.New(vapi.Options{
		VCenter: s.sim.URL, CAFile: s.sim.CAFile, Client: c, StoragePolicies: policies,
		VCenterClient: func(context.Context) (*vim25.Client, error) { return s.sim.Client.Client, nil },
	})
	front, err := vapi.NewFront(api, s.sim.URL, s.sim.CAFile, false)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.front = &http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.frontURL, s.frontCA = "https://"+ln.Addr().String(), ca.PEM
	go func() { _ = s.front.ServeTLS(ln, "", "") }()
	return nil
}

// WebhookServer is where the stack's API server calls the manager's webhooks.
func (s *Stack) WebhookServer() webhook.Server { return s.env.WebhookServer() }

// Setup registers the supervisor (manager.Setup) pointed at the stack's
// vCenter, workload network and HAProxy, plus the simulated guests, and
// describes the appliance to lbapi once the webhooks serve.
func (s *Stack) Setup(ctx context.Context, mgr ctrl.Manager, o manager.Options) (*manager.Supervisor, error) {
	o.VSphere.VCenter = session.Params{
		Server: s.sim.URL.String(), Username: s.sim.Username, Password: s.sim.Password, CAFile: s.sim.CAFile,
		UserAgent: o.VSphere.VCenter.UserAgent,
	}
	o.VSphere.Inventory.Datacenter, o.VSphere.Inventory.Cluster = vcsim.Datacenter, vcsim.Cluster
	o.VSphere.ContentLibrary = vcsim.ContentLibrary
	o.VSphere.DefaultNetwork = fixtures.WorkloadNetwork
	o.LoadBalancer = embeddedLoadBalancer
	o.WorkloadManagement = manager.WorkloadManagementOptions{
		StoragePolicies: &storagepolicy.Cache{Lister: &storagepolicy.Finder{Client: s.sim.Client.Client}},
		PortGroups:      &inventory.PortGroups{Client: s.sim.Client.Client},
		DatastoreURL:    s.sim.DatastoreURL,
		EndpointCertificate: func(_ context.Context, vip netip.Addr, dnsNames []string) ([]byte, error) {
			return s.env.ServeEndpoint([]net.IP{vip.AsSlice()}, dnsNames)
		},
		EndpointCA: s.env.ServingCA(),
		// The newest shipped release's image, named: "the newest published"
		// would depend on how far the image sync got when enable runs.
		ControlPlaneImage: catalog.ImageName(templates.Releases[len(templates.Releases)-1].ImageName()),
		// The control-plane VMs' simulated guests forward to the API server.
		ControlPlaneServes: true,
	}
	login, err := s.loginOptions()
	if err != nil {
		return nil, err
	}
	o.Login = login
	o.WorkloadManagement.LoginEndpoint = login.Listener.Addr().String()
	// Simulated guests answer within seconds of booting; Cluster API's 30 s
	// wait after a failed first connection is for real ones.
	o.ConnectionRetryInterval = time.Second
	sup, err := manager.Setup(ctx, mgr, o)
	if err != nil {
		return nil, err
	}
	if err := s.startFront(mgr.GetClient(), o.WorkloadManagement.StoragePolicies); err != nil {
		return nil, err
	}
	return sup, s.addToManager(mgr)
}

// Ready closes once the supervisor is ready (Workload Management running,
// ns1 configured, the env file written).
func (s *Stack) Ready() <-chan struct{} { return s.ready }

// EnableToRunning is how long Workload Management took from the enable
// call to RUNNING (known once Ready).
func (s *Stack) EnableToRunning() time.Duration { return s.enableToRunning }

// VCenterURL is the vCenter URL users take (the front) and the CA its
// certificate chains to.
func (s *Stack) VCenterURL() (string, []byte) { return s.frontURL, s.frontCA }

// VCenterCredentials are the simulator's administrator and password.
func (s *Stack) VCenterCredentials() (string, string) { return s.sim.Username, s.sim.Password }

// StateDir is where the stack keeps its files (kubeconfig, env, HAProxy's
// configuration).
func (s *Stack) StateDir() string { return s.dir }

// VCenterServer is the simulator's URL, for logs.
func (s *Stack) VCenterServer() string { return s.sim.URL.String() }

// startAppliance starts HAProxy behind a Data Plane API served over TLS
// with a CA of its own and a generated password.
func (s *Stack) startAppliance(ctx context.Context) error {
	dir := filepath.Join(s.dir, "haproxy")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, cert, key, err := appliance.WriteSelfSignedTLS(dir)
	if err != nil {
		return err
	}
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	s.lbCA, s.lbPass = ca, base64.RawURLEncoding.EncodeToString(pw)
	s.lb, err = appliance.Start(ctx, appliance.Options{Dir: dir, Username: "lbapi", Password: s.lbPass, CertFile: cert, KeyFile: key, ReloadDelay: time.Second})
	return err
}

// addToManager runs the simulated guest, describes the appliance to lbapi
// once the webhooks serve, and announces readiness.
func (s *Stack) addToManager(mgr ctrl.Manager) error {
	if err := mgr.Add(s.sim.Guest); err != nil {
		return err
	}
	apiServer, err := url.Parse(s.env.Config.Host)
	if err != nil {
		return fmt.Errorf("the API server's address %q: %w", s.env.Config.Host, err)
	}
	if err := newControlPlaneGuests(mgr.GetClient(), apiServer.Host, s.loginAddr).setup(mgr); err != nil {
		return err
	}
	guests := guestsim.Options{
		BootDelay: s.bootDelay, MinPort: s.guestPorts[0], MaxPort: s.guestPorts[1],
		EtcdServers: s.env.EtcdServers(), AssetsDir: s.env.BinaryAssetsDirectory, StateDir: filepath.Join(s.dir, "guests"),
		// Guest API servers trust the login tokens, as vSphere's guests do.
		Authenticators: func() []apiserverv1.JWTAuthenticator {
			if s.loginTokens.IssuerURL == "" {
				return nil
			}
			return []apiserverv1.JWTAuthenticator{wcp.JWTAuthenticator(s.loginTokens, string(s.env.ServingCA()))}
		},
	}
	if _, err := guestsim.Setup(mgr, guests); err != nil {
		return fmt.Errorf("failed to set up the simulated guests: %w", err)
	}
	return mgr.Add(ctrlRunnable(func(ctx context.Context) error {
		if err := waitFor(ctx, "the webhook server", func() error { return mgr.GetWebhookServer().StartedChecker()(nil) }); err != nil {
			return nil //nolint:nilerr // shutting down
		}
		endpoint, err := s.EnableWorkloadManagement(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("failed to enable Workload Management: %w", err)
		}
		s.endpoint = endpoint
		if err := s.trustLogin(ctx); err != nil {
			return nil //nolint:nilerr // shutting down
		}
		if err := s.waitReady(ctx, mgr.GetClient()); err != nil {
			return nil //nolint:nilerr // shutting down
		}
		if err := s.writeEnv(); err != nil {
			return err
		}
		close(s.ready)
		fmt.Printf("\nSupervisor ready at %s (kube-apiserver on :6443 through HAProxy)\n\n  source %s\n  KUBECTL_VSPHERE_PASSWORD=$GOVC_PASSWORD kubectl vsphere login --server=%s --vsphere-username %s   # trust the CA it shows\n  kubectl get virtualmachineclasses -n %s\n  kubectl get loadbalancers   # %d VIPs from %s\n"+
			"  kubectl apply -n %s -f templates/samples/tkc-v1alpha1.yaml && kubectl get tkc -n %s -w\n  govc ls /%s/vm\n\n",
			s.endpoint, filepath.Join(s.dir, "env"), s.endpoint, s.sim.Username, fixtures.Namespace, vipCount, s.shifted(vipFirst), fixtures.Namespace, fixtures.Namespace, vcsim.Datacenter)
		<-ctx.Done()
		return nil
	}))
}

// waitReady waits for the default classes in ns1, the published images and
// the load balancer's Data Plane API.
func (s *Stack) waitReady(ctx context.Context, c client.Client) error {
	return waitFor(ctx, "the namespace's VM classes, the images, the load balancer and the releases", func() error {
		var classes vmopv1.VirtualMachineClassList
		if err := c.List(ctx, &classes, client.InNamespace(fixtures.Namespace)); err != nil {
			return err
		}
		if want := len(namespace.DefaultClasses("")); len(classes.Items) < want {
			return fmt.Errorf("%d of %d VM classes in namespace %s", len(classes.Items), want, fixtures.Namespace)
		}
		var images vmopv1.ClusterVirtualMachineImageList
		if err := c.List(ctx, &images); err != nil {
			return err
		}
		if len(images.Items) == 0 {
			return errors.New("no ClusterVirtualMachineImage yet")
		}
		lb := &lbv1.LoadBalancer{}
		if err := c.Get(ctx, client.ObjectKey{Name: embeddedLoadBalancer}, lb); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable) {
			return fmt.Errorf("LoadBalancer %s: Data Plane API not reachable yet", embeddedLoadBalancer)
		}
		var releases runv1.TanzuKubernetesReleaseList
		if err := c.List(ctx, &releases); err != nil {
			return err
		}
		if ready := readyReleases(releases.Items); ready < len(templates.Releases) {
			return fmt.Errorf("%d of %d TanzuKubernetesReleases Ready", ready, len(templates.Releases))
		}
		return nil
	})
}

// readyReleases counts the published releases that are Ready.
func readyReleases(releases []runv1.TanzuKubernetesRelease) int {
	ready := 0
	for _, r := range releases {
		for _, c := range r.Status.Conditions {
			if c.Type == runv1.ReleaseReadyCondition && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready
}

// waitLogEvery is how often a wait of the embedded stack's start says what it
// still waits for.
const waitLogEvery = 10 * time.Second

// waitFor polls check until it returns nil. Every waitLogEvery it logs what it
// waits for and check's latest answer, so a start that hangs says where.
func waitFor(ctx context.Context, what string, check func() error) error {
	return pollLogged(ctx, what, waitLogEvery, check)
}

func pollLogged(ctx context.Context, what string, logEvery time.Duration, check func() error) error {
	log := ctrl.LoggerFrom(ctx).WithName("embedded")
	start := time.Now()
	logged := start
	var last error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		if last = check(); last != nil && time.Since(logged) >= logEvery {
			logged = time.Now()
			log.Info("Still waiting", "for", what, "after", time.Since(start).Round(time.Second), "reason", last.Error())
		}
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("stopped waiting for %s: %w (last: %w)", what, err, last)
	}
	return err
}

// writeEnv writes the shell environment for kubectl and govc.
func (s *Stack) writeEnv() error {
	env := fmt.Sprintf(`export KUBECONFIG=%s
export GOVC_URL=%s/sdk
export GOVC_USERNAME='%s'
export GOVC_PASSWORD='%s'
export GOVC_TLS_CA_CERTS=%s
export GOVC_DATACENTER=%s
export PATH=%s:$PATH
`, filepath.Join(s.dir, "kubeconfig"), s.frontURL, s.sim.Username, s.sim.Password, filepath.Join(s.dir, "vcenter-ca.crt"), vcsim.Datacenter, s.env.BinaryAssetsDirectory)
	if err := os.WriteFile(filepath.Join(s.dir, "env"), []byte(env), 0o600); err != nil {
		return err
	}
	return s.writeUsers()
}

// Stop stops HAProxy, the control plane and the simulator.
func (s *Stack) Stop() {
	if s.front != nil {
		_ = s.front.Close()
	}
	if s.lb != nil {
		s.lb.Stop()
	}
	if s.env != nil {
		_ = s.env.Stop()
	}
	if s.sim != nil {
		s.sim.Stop()
	}
	_ = os.Remove(filepath.Join(s.dir, "env"))
}

type ctrlRunnable func(context.Context) error

func (f ctrlRunnable) Start(ctx context.Context) error { return f(ctx) }
