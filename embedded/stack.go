package embedded

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/embedded/fixtures"
	"github.com/open-supervisor/supervisor/embedded/guestsim"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
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
	s := &Stack{dir: dir, bootDelay: o.BootDelay}
	if _, err := fmt.Sscanf(o.GuestPorts, "%d-%d", &s.guestPorts[0], &s.guestPorts[1]); err != nil {
		return nil, fmt.Errorf("--guest-api-ports %q: want <first>-<last>: %w", o.GuestPorts, err)
	}

	log.Info("Starting the vCenter simulator")
	if s.sim, err = vcsim.Start(ctx, vcsim.Options{BootDelay: o.BootDelay}); err != nil {
		return nil, err
	}
	log.Info("Starting etcd, kube-apiserver and kube-controller-manager")
	if s.env, err = kube.StartWith(kube.Options{AssetsDir: o.AssetsDir, StateDir: dir, ClusterAPI: true}); err != nil {
		s.Stop()
		return nil, err
	}
	log.Info("Starting HAProxy and its Data Plane API", "firstVIP", vipFirst, "vips", vipCount)
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

	c, err := client.New(s.Config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		s.Stop()
		return nil, err
	}
	if err := fixtures.Create(ctx, c, fixtures.Objects(s.sim)); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
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
	// Simulated guests answer within seconds of booting; Cluster API's 30 s
	// wait after a failed first connection is for real ones.
	o.ConnectionRetryInterval = time.Second
	sup, err := manager.Setup(ctx, mgr, o)
	if err != nil {
		return nil, err
	}
	return sup, s.addToManager(mgr)
}

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

// loadBalancerObjects describe the embedded appliance to lbapi.
func (s *Stack) loadBalancerObjects() ([]client.Object, error) {
	u, err := url.Parse(s.lb.URL)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, err
	}
	ref := lbv1.SecretReference{Namespace: lbapiNamespace, Name: embeddedLoadBalancer + "-credentials"}
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: lbapiNamespace}},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name},
			Data:       map[string][]byte{"username": []byte("lbapi"), "password": []byte(s.lbPass)},
		},
		&lbv1.LoadBalancer{
			ObjectMeta: metav1.ObjectMeta{Name: embeddedLoadBalancer},
			Spec: lbv1.LoadBalancerSpec{
				Provider: lbv1.ProviderHAProxy,
				HAProxy: lbv1.HAProxyConfig{
					Servers:                   []lbv1.DataPlaneAPIServer{{Host: u.Hostname(), Port: int32(port)}},
					CredentialsSecretRef:      ref,
					CertificateAuthorityChain: string(s.lbCA),
				},
				AddressRanges: []lbv1.AddressRange{{Address: vipFirst, Count: vipCount}},
			},
		},
	}, nil
}

// addToManager runs the simulated guest, describes the appliance to lbapi
// once the webhooks serve, and announces readiness.
func (s *Stack) addToManager(mgr ctrl.Manager) error {
	if err := mgr.Add(s.sim.Guest); err != nil {
		return err
	}
	if _, err := guestsim.Setup(mgr, guestsim.Options{BootDelay: s.bootDelay, MinPort: s.guestPorts[0], MaxPort: s.guestPorts[1]}); err != nil {
		return fmt.Errorf("failed to set up the simulated guests: %w", err)
	}
	return mgr.Add(ctrlRunnable(func(ctx context.Context) error {
		if err := waitFor(ctx, func() bool { return mgr.GetWebhookServer().StartedChecker()(nil) == nil }); err != nil {
			return nil //nolint:nilerr // shutting down
		}
		objs, err := s.loadBalancerObjects()
		if err != nil {
			return err
		}
		if err := fixtures.Create(ctx, mgr.GetClient(), objs); err != nil {
			return fmt.Errorf("failed to describe the HAProxy appliance: %w", err)
		}
		if err := s.waitReady(ctx, mgr.GetClient()); err != nil {
			return nil //nolint:nilerr // shutting down
		}
		if err := s.writeEnv(); err != nil {
			return err
		}
		fmt.Printf("\nSupervisor ready\n\n  source %s\n  kubectl get virtualmachineclasses -n %s\n  kubectl get loadbalancers   # %d VIPs from %s\n"+
			"  kubectl apply -n %s -f templates/samples/tkc-v1alpha1.yaml && kubectl get tkc -n %s -w\n  govc ls /%s/vm\n\n",
			filepath.Join(s.dir, "env"), fixtures.Namespace, vipCount, vipFirst, fixtures.Namespace, fixtures.Namespace, vcsim.Datacenter)
		<-ctx.Done()
		return nil
	}))
}

// waitReady waits for the default classes in ns1, the published images and
// the load balancer's Data Plane API.
func (s *Stack) waitReady(ctx context.Context, c client.Client) error {
	return waitFor(ctx, func() bool {
		var classes vmopv1.VirtualMachineClassList
		var images vmopv1.ClusterVirtualMachineImageList
		lb := &lbv1.LoadBalancer{}
		var releases runv1.TanzuKubernetesReleaseList
		return c.List(ctx, &classes, client.InNamespace(fixtures.Namespace)) == nil && len(classes.Items) >= 16 &&
			c.List(ctx, &images) == nil && len(images.Items) > 0 &&
			c.Get(ctx, client.ObjectKey{Name: embeddedLoadBalancer}, lb) == nil &&
			meta.IsStatusConditionTrue(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable) &&
			c.List(ctx, &releases) == nil && allReady(releases.Items)
	})
}

// allReady says whether every shipped release is published and Ready.
func allReady(releases []runv1.TanzuKubernetesRelease) bool {
	ready := 0
	for _, r := range releases {
		for _, c := range r.Status.Conditions {
			if c.Type == runv1.ReleaseReadyCondition && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready >= len(templates.Releases)
}

func waitFor(ctx context.Context, ok func() bool) error {
	for !ok() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// writeEnv writes the shell environment for kubectl and govc.
func (s *Stack) writeEnv() error {
	env := fmt.Sprintf(`export KUBECONFIG=%s
export GOVC_URL=%s
export GOVC_USERNAME='%s'
export GOVC_PASSWORD='%s'
export GOVC_TLS_CA_CERTS=%s
export GOVC_DATACENTER=%s
export PATH=%s:$PATH
`, filepath.Join(s.dir, "kubeconfig"), s.sim.URL.String(), s.sim.Username, s.sim.Password, s.sim.CAFile, vcsim.Datacenter, s.env.BinaryAssetsDirectory)
	return os.WriteFile(filepath.Join(s.dir, "env"), []byte(env), 0o600)
}

// Stop stops HAProxy, the control plane and the simulator.
func (s *Stack) Stop() {
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
