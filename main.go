package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/embedded"
	"github.com/open-supervisor/supervisor/internal/webhookcerts"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/manager"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere"
	"github.com/open-supervisor/supervisor/providers/vsphere/infrastructure"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

type options struct {
	vcServer, vcUsername, vcPasswordFile, vcCAFile, vcThumbprint string
	vcInsecure                                                   bool
	datacenter, cluster, vmFolder                                string
	defaultNetwork, contentLibrary                               string
	metricsAddr, probeAddr                                       string
	leaderElect                                                  bool
	concurrency                                                  int
	embedded                                                     bool
	stateDir, assetsDir                                          string
	loadBalancer                                                 string
	haproxyReloadEvery                                           time.Duration
	bootDelay                                                    time.Duration
	clusterRetry                                                 time.Duration
	guestPorts                                                   string
	kubeAPIQPS                                                   float64
	kubeAPIBurst                                                 int
	vapiAddr, vapiCertFile, vapiKeyFile                          string
	datastoreURL                                                 string
	controlPlaneImage                                            string
	loginAddr, loginCertFile, loginKeyFile                       string
	loginIssuerURL, loginAudience                                string
	webhook                                                      webhookOptions
}

// webhookOptions say where the webhooks are served outside the embedded
// stack, and whether the binary makes their certificate itself.
type webhookOptions struct {
	host, certDir             string
	port                      int
	selfSigned                bool
	serviceName, serviceNS    string
	certHosts, injectSelector string
}

func main() {
	var o options
	flag.StringVar(&o.vcServer, "vc-server", os.Getenv("VSPHERE_SERVER"), "vCenter host or https URL ($VSPHERE_SERVER)")
	flag.StringVar(&o.vcUsername, "vc-username", os.Getenv("VSPHERE_USERNAME"), "vCenter SSO user ($VSPHERE_USERNAME)")
	flag.StringVar(&o.vcPasswordFile, "vc-password-file", "", "file holding the vCenter password (else $VSPHERE_PASSWORD)")
	flag.StringVar(&o.vcCAFile, "vc-ca-file", "", "PEM bundle the vCenter certificate must chain to")
	flag.StringVar(&o.vcThumbprint, "vc-thumbprint", "", "SHA-1 thumbprint of the vCenter certificate, instead of a CA")
	flag.BoolVar(&o.vcInsecure, "vc-insecure", false, "do not verify the vCenter certificate (testing only)")
	flag.StringVar(&o.datacenter, "datacenter", "", "datacenter name (default: the only one)")
	flag.StringVar(&o.cluster, "cluster", "", "vSphere cluster name (default: the only one)")
	flag.StringVar(&o.vmFolder, "vm-folder", "Namespaces", "VM folder holding one folder per namespace")
	flag.StringVar(&o.defaultNetwork, "default-network", "workload", "WorkloadNetwork of VMs that name none")
	flag.StringVar(&o.contentLibrary, "content-library", "kubernetes", "content library published as ClusterVirtualMachineImages")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Prometheus metrics address (0 disables)")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "health and readiness probe address")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader so only one replica reconciles")
	flag.IntVar(&o.concurrency, "vm-concurrency", 32, "VirtualMachines reconciled at once")
	flag.Float64Var(&o.kubeAPIQPS, "kube-api-qps", clusterapi.ClientQPS+20, "requests per second to the Kubernetes API, for all controllers together (Cluster API's three mains' defaults and 20 for the supervisor's own)")
	flag.IntVar(&o.kubeAPIBurst, "kube-api-burst", clusterapi.ClientBurst+30, "burst of requests to the Kubernetes API above --kube-api-qps")
	flag.StringVar(&o.loadBalancer, "load-balancer", "", "LoadBalancer serving Service VIPs (default: the only one)")
	flag.DurationVar(&o.haproxyReloadEvery, "haproxy-reload-every", lbcontroller.DefaultReloadEvery, "lbapi reloads HAProxy with each commit (force_reload), at most this often, so a VIP serves in a reload's time instead of after the appliance's reload delay (30s on the vSphere appliance); 0 leaves the reloads to the appliance")
	flag.DurationVar(&o.clusterRetry, "cluster-connection-retry-interval", 0, "how long Cluster API waits after a failed first connection to a guest cluster (0: Cluster API's 30s, for real guests; the embedded stack's simulated guests use 1s; set it when this manager runs against simulated guests outside --embedded)")
	flag.BoolVar(&o.embedded, "embedded", false, "start vcsim, etcd and kube-apiserver in-process and use them")
	flag.StringVar(&o.stateDir, "state-dir", ".supervisor", "embedded mode: where the kubeconfig and env file go")
	flag.StringVar(&o.assetsDir, "assets-dir", "", "embedded mode: directory with kube-apiserver, kube-controller-manager and etcd (default: bin/)")
	flag.DurationVar(&o.bootDelay, "boot-delay", time.Second, "embedded mode: how long a simulated guest takes to report its IP and to boot Kubernetes")
	flag.StringVar(&o.guestPorts, "guest-api-ports", "20000-29999", "embedded mode: ports of the simulated guest clusters' API servers")
	zapOpts := zap.Options{}
	flag.StringVar(&o.vapiAddr, "vapi-bind-address", "", "serve vCenter's Workload Management REST API (and pass every other path to vCenter) at this address; off when empty")
	flag.StringVar(&o.vapiCertFile, "vapi-tls-cert-file", "", "TLS certificate of --vapi-bind-address")
	flag.StringVar(&o.vapiKeyFile, "vapi-tls-key-file", "", "TLS key of --vapi-bind-address")
	flag.StringVar(&o.controlPlaneImage, "supervisor-control-plane-image", "", "ClusterVirtualMachineImage the supervisor's control-plane VMs are cloned from (default: the newest Kubernetes release's image)")
	flag.StringVar(&o.datastoreURL, "storage-datastore-url", "", "datastore URL of the StorageClasses made for storage policies (where the VM service places their disks)")
	flag.StringVar(&o.loginAddr, "login-bind-address", "", "serve the login service of kubectl vsphere login (/wcp/*) at this address, which the endpoint's port 443 forwards to; off when empty")
	flag.StringVar(&o.loginCertFile, "login-tls-cert-file", "", "TLS certificate of --login-bind-address, valid for the endpoint VIP")
	flag.StringVar(&o.loginKeyFile, "login-tls-key-file", "", "TLS key of --login-bind-address")
	flag.StringVar(&o.loginIssuerURL, "login-issuer-url", "", "https URL of the login service as kube-apiserver reaches it: the tokens' issuer")
	flag.StringVar(&o.loginAudience, "login-audience", "vmware-tes:vc:vns:k8s", "audience of the login tokens (kube-apiserver's JWT authenticator must name it)")
	flag.StringVar(&o.webhook.host, "webhook-host", "", "address the webhook server binds to (default: all)")
	flag.IntVar(&o.webhook.port, "webhook-port", webhook.DefaultPort, "port of the webhook server (admission and /convert)")
	flag.StringVar(&o.webhook.certDir, "webhook-cert-dir", filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs"), "directory holding the webhook server's tls.crt and tls.key")
	flag.BoolVar(&o.webhook.selfSigned, "webhook-cert-self-signed", false, "create a CA and a certificate for the webhook Service into --webhook-cert-dir and patch the CA into the caBundle of the webhook configurations and CRDs selected by --webhook-ca-inject-selector (instead of cert-manager)")
	flag.StringVar(&o.webhook.serviceName, "webhook-service-name", "supervisor-webhook-service", "with --webhook-cert-self-signed: the webhook Service the certificate is for")
	flag.StringVar(&o.webhook.serviceNS, "webhook-service-namespace", os.Getenv("POD_NAMESPACE"), "with --webhook-cert-self-signed: the webhook Service's namespace ($POD_NAMESPACE)")
	flag.StringVar(&o.webhook.certHosts, "webhook-cert-hosts", "", "with --webhook-cert-self-signed: further DNS names or IPs, comma-separated, the certificate is valid for (webhooks called at a URL outside the cluster)")
	flag.StringVar(&o.webhook.injectSelector, "webhook-ca-inject-selector", webhookcerts.DefaultSelector, "with --webhook-cert-self-signed: label selector of the CRDs and webhook configurations whose caBundle is patched")
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	ctx := ctrl.SetupSignalHandler()
	if err := run(ctx, o); err != nil {
		ctrl.Log.Error(err, "Supervisor failed")
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	cfg, webhookServer, setup, stop, err := platform(ctx, o)
	if err != nil {
		return err
	}
	defer stop()
	// One manager runs Cluster API and the supervisor, so one client limit
	// covers both, in the embedded stack too (its admin config allows 500).
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(o.kubeAPIQPS), o.kubeAPIBurst

	// Cluster API runs in this manager; its presets decide how Secrets are cached.
	mgrOpts, err := clusterapi.ManagerOptions(ctrl.Options{
		Scheme:                  api.NewScheme(),
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "open-supervisor-manager",
		LeaderElectionNamespace: os.Getenv("POD_NAMESPACE"),
		WebhookServer:           webhookServer,
	})
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return fmt.Errorf("failed to create the manager: %w", err)
	}
	if err := o.webhook.setupSelfSigned(ctx, cfg, mgr, o.embedded); err != nil {
		return err
	}
	sessions := session.NewCache()
	defer sessions.Logout(context.WithoutCancel(ctx))
	managerOpts, err := o.managerOptions(sessions)
	if err != nil {
		return err
	}
	if _, err := setup(ctx, mgr, managerOpts); err != nil {
		return err
	}
	if !o.embedded {
		vr := &vcenterReader{sessions: sessions, params: managerOpts.VSphere.VCenter}
		if err := serveWorkloadManagementAPI(mgr, o, vr, managerOpts.WorkloadManagement.StoragePolicies); err != nil {
			return err
		}
	}
	if err := addProbes(mgr); err != nil {
		return err
	}
	ctrl.Log.Info("Starting the supervisor manager", "vcenter", redact(managerOpts.VSphere.VCenter.Server))
	return mgr.Start(ctx)
}

// setupFunc registers the supervisor on a manager: manager.Setup, or the
// embedded stack's Setup, which points it at the stack first.
type setupFunc func(context.Context, ctrl.Manager, manager.Options) (*manager.Supervisor, error)

// platform returns the API server to run against, where its webhooks
// are served, and how to set up the supervisor: the embedded stack's with
// --embedded, else the kubeconfig's (or in-cluster) and flags.
func platform(ctx context.Context, o options) (*rest.Config, webhook.Server, setupFunc, func(), error) {
	if !o.embedded {
		cfg, err := ctrl.GetConfig()
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("failed to load a kubeconfig: %w", err)
		}
		server := webhook.NewServer(webhook.Options{Host: o.webhook.host, Port: o.webhook.port, CertDir: o.webhook.certDir})
		return cfg, server, manager.Setup, func() {}, nil
	}
	stack, err := embedded.Start(ctx, embedded.Options{
		StateDir: o.stateDir, AssetsDir: o.assetsDir, BootDelay: o.bootDelay, GuestPorts: o.guestPorts,
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return stack.Config, stack.WebhookServer(), stack.Setup, stack.Stop, nil
}

// setupSelfSigned makes the webhook certificate with
// --webhook-cert-self-signed (the embedded stack has its own) and keeps its
// CA in the caBundles.
func (w webhookOptions) setupSelfSigned(ctx context.Context, cfg *rest.Config, mgr ctrl.Manager, embedded bool) error {
	if !w.selfSigned || embedded {
		return nil
	}
	selector, err := labels.Parse(w.injectSelector)
	if err != nil {
		return fmt.Errorf("invalid --webhook-ca-inject-selector: %w", err)
	}
	var hosts []string
	for h := range strings.SplitSeq(w.certHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	injector, err := webhookcerts.Setup(ctx, cfg, webhookcerts.Options{
		CertDir: w.certDir, ServiceName: w.serviceName, ServiceNamespace: w.serviceNS, Hosts: hosts, Selector: selector,
	}, ctrl.Log.WithName("webhookcerts"))
	if err != nil {
		return fmt.Errorf("failed to set up the self-signed webhook certificate: %w", err)
	}
	return mgr.Add(injector)
}

// managerOptions turns the flags into the supervisor's options. The
// embedded stack replaces what points at vCenter and HAProxy.
func (o options) managerOptions(sessions *session.Cache) (manager.Options, error) {
	mo := manager.Options{
		VSphere: vsphere.Options{
			VCenter: session.Params{
				Server: o.vcServer, Username: o.vcUsername,
				CAFile: o.vcCAFile, Thumbprint: o.vcThumbprint, Insecure: o.vcInsecure,
				UserAgent: "open-supervisor",
			},
			Inventory:         inventory.Config{Datacenter: o.datacenter, Cluster: o.cluster, Folder: o.vmFolder},
			DefaultNetwork:    o.defaultNetwork,
			ContentLibrary:    o.contentLibrary,
			ImageSyncInterval: 10 * time.Minute,
			Concurrency:       o.concurrency,
			Sessions:          sessions,
		},
		Infrastructure:          infrastructure.Options{MachineConcurrency: o.concurrency},
		LoadBalancer:            o.loadBalancer,
		HAProxyReloadEvery:      o.haproxyReloadEvery,
		ConnectionRetryInterval: o.clusterRetry,
	}
	if o.embedded {
		return mo, nil
	}
	password, err := readPassword(o)
	if err != nil {
		return mo, err
	}
	mo.VSphere.VCenter.Password = password
	vr := &vcenterReader{sessions: sessions, params: mo.VSphere.VCenter}
	mo.WorkloadManagement = manager.WorkloadManagementOptions{
		StoragePolicies: &storagepolicy.Cache{Lister: vr}, PortGroups: vr, DatastoreURL: o.datastoreURL,
		ControlPlaneImage: o.controlPlaneImage,
	}
	if mo.Login, err = o.loginOptions(vr, url.UserPassword(o.vcUsername, password)); err != nil {
		return mo, err
	}
	if o.loginAddr != "" {
		mo.WorkloadManagement.LoginEndpoint = o.loginAddr
	}
	return mo, nil
}

// addProbes adds the health and readiness checks; ready means the
// webhooks serve.
func addProbes(mgr ctrl.Manager) error {
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("webhooks", mgr.GetWebhookServer().StartedChecker())
}

func readPassword(o options) (string, error) {
	if o.vcPasswordFile != "" {
		b, err := os.ReadFile(o.vcPasswordFile)
		if err != nil {
			return "", fmt.Errorf("failed to read --vc-password-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := os.Getenv("VSPHERE_PASSWORD"); p != "" {
		return p, nil
	}
	return "", errors.New("no vCenter password: set --vc-password-file or $VSPHERE_PASSWORD")
}

// redact drops user info from a server URL before it is logged.
func redact(server string) string {
	if i := strings.Index(server, "@"); i >= 0 {
		if j := strings.Index(server, "://"); j >= 0 && j < i {
			return server[:j+3] + server[i+1:]
		}
		return server[i+1:]
	}
	return server
}
