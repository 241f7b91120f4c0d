// Command supervisor is the Open Supervisor manager: one controller-runtime
// manager running the VM service against vCenter, the namespace controller,
// lbapi (Service VIPs on HAProxy) and the admission webhooks. With
// --embedded it first starts its own vCenter simulator, etcd,
// kube-apiserver and HAProxy appliance (`make run`), so it needs nothing
// else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/controllers/tanzukubernetescluster"
	"github.com/open-supervisor/supervisor/controllers/tanzukubernetesrelease"
	"github.com/open-supervisor/supervisor/internal/webhooks"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere"
	"github.com/open-supervisor/supervisor/providers/vsphere/infrastructure"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
)

type options struct {
	vcServer, vcUsername, vcPasswordFile, vcCAFile, vcThumbprint string
	vcInsecure                                                   bool
	vcPassword                                                   string // set by the embedded stack only
	datacenter, cluster, vmFolder                                string
	defaultNetwork, contentLibrary                               string
	metricsAddr, probeAddr                                       string
	leaderElect                                                  bool
	concurrency                                                  int
	embedded                                                     bool
	stateDir, assetsDir                                          string
	loadBalancer                                                 string
	bootDelay                                                    time.Duration
	guestPorts                                                   string
	kubeAPIQPS                                                   float64
	kubeAPIBurst                                                 int
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
	flag.BoolVar(&o.embedded, "embedded", false, "start vcsim, etcd and kube-apiserver in-process and use them")
	flag.StringVar(&o.stateDir, "state-dir", ".supervisor", "embedded mode: where the kubeconfig and env file go")
	flag.StringVar(&o.assetsDir, "assets-dir", "", "embedded mode: directory with kube-apiserver and etcd (default: bin/)")
	flag.DurationVar(&o.bootDelay, "boot-delay", time.Second, "embedded mode: how long a simulated guest takes to report its IP and to boot Kubernetes")
	flag.StringVar(&o.guestPorts, "guest-api-ports", "20000-29999", "embedded mode: ports of the simulated guest clusters' API servers")
	zapOpts := zap.Options{}
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
	var cfg *rest.Config
	var extra []func(ctrl.Manager) error
	var webhookServer webhook.Server
	if o.embedded {
		stack, err := startEmbedded(ctx, &o)
		if err != nil {
			return err
		}
		defer stack.stop()
		cfg = stack.config
		webhookServer = stack.env.WebhookServer()
		extra = append(extra, stack.addToManager)
	} else {
		var err error
		if cfg, err = ctrl.GetConfig(); err != nil {
			return fmt.Errorf("failed to load a kubeconfig: %w", err)
		}
	}
	// One manager runs Cluster API and the supervisor, so one client limit
	// covers both, in the embedded stack too (its admin config allows 500).
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(o.kubeAPIQPS), o.kubeAPIBurst
	password, err := readPassword(o)
	if err != nil {
		return err
	}

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
	clusterCache, err := clusterapi.Setup(ctx, mgr, clusterapi.Options{})
	if err != nil {
		return fmt.Errorf("failed to set up Cluster API: %w", err)
	}
	if o.embedded {
		// Simulated guests answer within seconds of booting; Cluster API's
		// 30 s wait after a failed first connection is for real ones.
		if cc, ok := clusterCache.(interface{ SetConnectionCreationRetryInterval(time.Duration) }); ok {
			cc.SetConnectionCreationRetryInterval(time.Second)
		}
	}
	if err := infrastructure.Setup(ctx, mgr, infrastructure.Options{MachineConcurrency: o.concurrency}); err != nil {
		return fmt.Errorf("failed to set up the infrastructure provider: %w", err)
	}
	sessions := session.NewCache()
	defer sessions.Logout(context.WithoutCancel(ctx))
	if _, err := vsphere.Setup(ctx, mgr, vsphere.Options{
		VCenter: session.Params{
			Server: o.vcServer, Username: o.vcUsername, Password: password,
			CAFile: o.vcCAFile, Thumbprint: o.vcThumbprint, Insecure: o.vcInsecure,
			UserAgent: "open-supervisor",
		},
		Inventory:         inventory.Config{Datacenter: o.datacenter, Cluster: o.cluster, Folder: o.vmFolder},
		DefaultNetwork:    o.defaultNetwork,
		ContentLibrary:    o.contentLibrary,
		ImageSyncInterval: 10 * time.Minute,
		Concurrency:       o.concurrency,
		Sessions:          sessions,
	}); err != nil {
		return err
	}
	if err := (&namespace.Reconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the namespace controller: %w", err)
	}
	if err := (&tanzukubernetesrelease.Reconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the release controller: %w", err)
	}
	if err := (&tanzukubernetescluster.Reconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("tanzukubernetescluster-controller"),
	}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("failed to set up the TanzuKubernetesCluster controller: %w", err)
	}
	if err := (&lbcontroller.Reconciler{
		Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("lbapi"), LoadBalancer: o.loadBalancer,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up lbapi: %w", err)
	}
	if err := webhooks.Setup(mgr); err != nil {
		return fmt.Errorf("failed to set up the webhooks: %w", err)
	}
	for _, add := range extra {
		if err := add(mgr); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhooks", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	ctrl.Log.Info("Starting the supervisor manager", "vcenter", redact(o.vcServer))
	return mgr.Start(ctx)
}

func readPassword(o options) (string, error) {
	if o.vcPassword != "" {
		return o.vcPassword, nil
	}
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
