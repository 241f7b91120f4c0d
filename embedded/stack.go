package main

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

	"github.com/open-supervisor/supervisor/api"
	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/lbapi/appliance"
	"github.com/open-supervisor/supervisor/templates"
	"github.com/open-supervisor/supervisor/test/embedded"
	testenv "github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/guestsim"
	"github.com/open-supervisor/supervisor/test/vcsim"
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

// embeddedStack is vcsim, etcd, kube-apiserver and the HAProxy appliance
// started for `make run`.
type embeddedStack struct {
	sim    *vcsim.Simulator
	env    *testenv.Environment
	lb     *appliance.Appliance
	lbCA   []byte
	lbPass string
	config *rest.Config
	dir    string
	// bootDelay and guestPorts configure the simulated guests.
	bootDelay  time.Duration
	guestPorts [2]int32
}

func startEmbedded(ctx context.Context, o *options) (*embeddedStack, error) {
	log := ctrl.Log.WithName("embedded")
	dir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &embeddedStack{dir: dir, bootDelay: o.bootDelay}
	if _, err := fmt.Sscanf(o.guestPorts, "%d-%d", &s.guestPorts[0], &s.guestPorts[1]); err != nil {
		return nil, fmt.Errorf("--guest-api-ports %q: want <first>-<last>: %w", o.guestPorts, err)
	}

	log.Info("Starting the vCenter simulator")
	if s.sim, err = vcsim.Start(ctx, vcsim.Options{BootDelay: o.bootDelay}); err != nil {
		return nil, err
	}
	log.Info("Starting etcd and kube-apiserver")
	if s.env, err = testenv.StartWith(testenv.Options{AssetsDir: o.assetsDir, ClusterAPI: true}); err != nil {
		s.stop()
		return nil, err
	}
	log.Info("Starting HAProxy and its Data Plane API", "firstVIP", vipFirst, "vips", vipCount)
	if err := s.startAppliance(ctx); err != nil {
		s.stop()
		return nil, err
	}
	user, err := s.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("failed to create the admin user: %w", err)
	}
	s.config = user.Config()
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig"), kubeconfig, 0o600); err != nil {
		s.stop()
		return nil, err
	}

	c, err := client.New(s.config, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		s.stop()
		return nil, err
	}
	if err := embedded.Create(ctx, c, embedded.Objects(s.sim)); err != nil {
		s.stop()
		return nil, err
	}

	o.vcServer = s.sim.URL.String()
	o.vcUsername = s.sim.Username
	o.vcPassword = s.sim.Password
	o.vcCAFile = s.sim.CAFile
	o.datacenter, o.cluster = vcsim.Datacenter, vcsim.Cluster
	o.contentLibrary = vcsim.ContentLibrary
	o.defaultNetwork = embedded.WorkloadNetwork
	return s, nil
}

// startAppliance starts HAProxy behind a Data Plane API served over TLS
// with a CA of its own and a generated password.
func (s *embeddedStack) startAppliance(ctx context.Context) error {
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
func (s *embeddedStack) loadBalancerObjects() ([]client.Object, error) {
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
func (s *embeddedStack) addToManager(mgr ctrl.Manager) error {
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
		if err := embedded.Create(ctx, mgr.GetClient(), objs); err != nil {
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
			filepath.Join(s.dir, "env"), embedded.Namespace, vipCount, vipFirst, embedded.Namespace, embedded.Namespace, vcsim.Datacenter)
		<-ctx.Done()
		return nil
	}))
}

// waitReady waits for the default classes in ns1, the published images and
// the load balancer's Data Plane API.
func (s *embeddedStack) waitReady(ctx context.Context, c client.Client) error {
	return waitFor(ctx, func() bool {
		var classes vmopv1.VirtualMachineClassList
		var images vmopv1.ClusterVirtualMachineImageList
		lb := &lbv1.LoadBalancer{}
		var releases runv1.TanzuKubernetesReleaseList
		return c.List(ctx, &classes, client.InNamespace(embedded.Namespace)) == nil && len(classes.Items) >= 16 &&
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
func (s *embeddedStack) writeEnv() error {
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

func (s *embeddedStack) stop() {
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
