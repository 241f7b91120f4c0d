package envtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/test/tb"
	"github.com/open-supervisor/supervisor/test/wait"
)

// Suite is one test binary's API server and manager, shared by its tests.
type Suite struct {
	Env     *kube.Environment
	Manager ctrl.Manager
	// Client talks to the API server directly: writes go through the
	// webhooks, reads see the latest state.
	Client client.Client
}

// SuiteOptions configure RunSuite.
type SuiteOptions struct {
	Env kube.Options
	// ManagerOptions completes the manager's options (Cluster API's
	// clusterapi.ManagerOptions); nil keeps them.
	ManagerOptions func(ctrl.Options) (ctrl.Options, error)
	// Setup registers controllers and webhooks before the manager starts.
	Setup func(ctx context.Context, s *Suite) error
	// Ready runs once the manager serves webhooks, before the tests.
	Ready func(ctx context.Context, s *Suite) error
}

// RunSuite is a TestMain body: it starts kube-apiserver and etcd, one
// manager serving the webhooks and running what Setup registers, runs the
// tests and returns the exit code. SUPERVISOR_TEST_LOG=1 shows the logs.
func RunSuite(m tb.M, o SuiteOptions) int {
	if os.Getenv("SUPERVISOR_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	code, err := runSuite(m, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}

func runSuite(m tb.M, o SuiteOptions) (int, error) {
	env, err := kube.StartWith(o.Env)
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()

	scheme := api.NewScheme()
	opts := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(env.WebhookOptions()),
	}
	if o.ManagerOptions != nil {
		if opts, err = o.ManagerOptions(opts); err != nil {
			return 0, err
		}
	}
	mgr, err := ctrl.NewManager(env.Config, opts)
	if err != nil {
		return 0, err
	}
	s := &Suite{Env: env, Manager: mgr}
	if s.Client, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if o.Setup != nil {
		if err := o.Setup(ctx, s); err != nil {
			return 0, err
		}
	}
	stop, err := StartManager(ctx, mgr)
	if err != nil {
		return 0, err
	}
	defer stop()
	if o.Ready != nil {
		if err := o.Ready(ctx, s); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// StartManager starts mgr and returns once it serves webhooks and its
// caches are synced; stop stops it and waits for it to end. A manager that
// fails to start ends the wait with its error.
func StartManager(ctx context.Context, mgr ctrl.Manager) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	// starting ends with the manager, so that a manager that fails to
	// start ends the wait for its webhooks with its error.
	starting, stopStarting := context.WithCancelCause(ctx)
	defer stopStarting(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := mgr.Start(ctx)
		stopStarting(fmt.Errorf("the manager stopped: %w", err))
	}()
	stop = func() { cancel(); <-done }
	started := mgr.GetWebhookServer().StartedChecker()
	if err := wait.Poll(starting, wait.Interval, 60*time.Second, "the webhook server to start", func() (bool, error) {
		err := started(nil)
		return err == nil, err
	}); err != nil {
		stop()
		return nil, err
	}
	if !mgr.GetCache().WaitForCacheSync(starting) {
		stop()
		return nil, errors.New("the manager's cache did not sync")
	}
	return stop, nil
}

// NewNamespace creates a namespace of the test's own, named after prefix.
func NewNamespace(t tb.TB, c client.Client, prefix string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix, Labels: labels}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}
