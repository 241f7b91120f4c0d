package guestsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
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
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/test/envtest"
)

// Test ports: outside DefaultMinPort..DefaultMaxPort, so that a stack
// running with the defaults on this machine cannot collide.
const (
	testMinPort = 30100
	testMaxPort = 30199
)

var (
	// testClient talks to the API server directly, through the webhooks.
	testClient client.Client
	// sim is the simulator under test, in the one manager of the process.
	sim *Simulator
)

// TestMain starts kube-apiserver and etcd with Cluster API's CRDs and
// webhooks, and one manager running Cluster API in-process and the
// simulator.
func TestMain(m *testing.M) {
	if os.Getenv("SUPERVISOR_TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func runSuite(m *testing.M) (int, error) {
	env, err := envtest.StartWith(envtest.Options{ClusterAPI: true})
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()

	scheme := api.NewScheme()
	opts, err := clusterapi.ManagerOptions(ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(env.WebhookOptions()),
	})
	if err != nil {
		return 0, err
	}
	mgr, err := ctrl.NewManager(env.Config, opts)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clusterCache, err := clusterapi.Setup(ctx, mgr, clusterapi.Options{})
	if err != nil {
		return 0, err
	}
	// The ClusterCache tries a Cluster as soon as its infrastructure is
	// provisioned, long before the first control plane boots, and waits 30s
	// after each failure; Cluster API's own tests shorten that the same way.
	clusterCache.(interface{ SetConnectionCreationRetryInterval(time.Duration) }).
		SetConnectionCreationRetryInterval(time.Second)
	if sim, err = Setup(mgr, Options{MinPort: testMinPort, MaxPort: testMaxPort}); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() { cancel(); <-done }()
	if err := waitForWebhooks(ctx, mgr, done); err != nil {
		return 0, err
	}
	if testClient, err = client.New(env.Config, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// waitForWebhooks returns once the manager serves webhooks and its caches
// are synced, or the manager failed.
func waitForWebhooks(ctx context.Context, mgr ctrl.Manager, done <-chan error) error {
	started := mgr.GetWebhookServer().StartedChecker()
	deadline := time.After(60 * time.Second)
	for started(nil) != nil {
		select {
		case err := <-done:
			return fmt.Errorf("the manager stopped: %w", err)
		case <-deadline:
			return errors.New("the webhook server did not start within 60s")
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("the manager's cache did not sync")
	}
	return nil
}

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "guestsim-"}}
	if err := testClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// waitFor polls cond until it holds or timeout has passed.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	start := time.Now()
	var lastErr error
	for time.Since(start) < timeout {
		ok, err := cond()
		if ok {
			t.Logf("%s: %s", what, time.Since(start).Round(10*time.Millisecond))
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
}
