package tanzukubernetescluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/test/envtest"
)

// testClient talks to the API server directly: writes go through the
// webhooks, reads see the latest state.
var testClient client.Client

// TestMain starts kube-apiserver and etcd with the project's and Cluster
// API's CRDs, and one manager serving both webhook sets and running Cluster
// API in-process and the TanzuKubernetesCluster controller. No
// infrastructure provider runs: Machines never get a VM.
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
	if _, err := clusterapi.Setup(ctx, mgr, clusterapi.Options{}); err != nil {
		return 0, err
	}
	if err := SetupWebhooks(mgr, &ClientLookups{Reader: mgr.GetAPIReader()}); err != nil {
		return 0, err
	}
	r := &Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("tanzukubernetescluster-controller")}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
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
	if err := CreateShippedReleases(ctx, testClient); err != nil {
		return 0, err
	}
	storageClass := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "k8s-storage"}, Provisioner: "csi.vsphere.vmware.com"}
	if err := testClient.Create(ctx, storageClass); err != nil {
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

// newVSphereNamespace creates a vSphere Namespace of the test's own with
// the default VM classes, as controllers/namespace installs them.
func newVSphereNamespace(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "tkc-",
		Labels: map[string]string{namespace.VSphereNamespaceLabel: "true"}}}
	if err := testClient.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, c := range namespace.DefaultClasses(ns.Name) {
		if err := testClient.Create(ctx, c); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	return ns.Name
}

// waitFor polls cond until it holds or 90 seconds have passed; Cluster
// API's controllers reconcile an object at most once a second.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
}
