package clusterapi

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/open-supervisor/supervisor/test/envtest"
)

// testClient talks to the API server directly, so every write goes through
// the webhooks and every read sees the latest state.
var testClient client.Client

// TestMain starts kube-apiserver and etcd with Cluster API's CRDs and
// webhooks, and one manager running Setup that serves those webhooks: one
// per process, as Cluster API's global state allows.
func TestMain(m *testing.M) {
	os.Exit(envtest.RunSuite(m, envtest.SuiteOptions{
		Env:            envtest.Options{ClusterAPI: true},
		ManagerOptions: ManagerOptions,
		Setup: func(ctx context.Context, s *envtest.Suite) error {
			if _, err := ctrlenvtest.InstallCRDs(s.Env.Config, ctrlenvtest.CRDInstallOptions{CRDs: fakeInfraCRDs()}); err != nil {
				return fmt.Errorf("failed to install the fake infrastructure CRDs: %w", err)
			}
			testClient = s.Client
			_, err := Setup(ctx, s.Manager, Options{})
			return err
		},
	}))
}

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "capi-"}}
	if err := testClient.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// waitFor polls cond until it holds or a minute has passed; the controllers
// run with rate limiting, at most one reconcile per object per second.
func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
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
