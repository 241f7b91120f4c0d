package clusterapi

import (
	"context"
	"fmt"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/open-supervisor/supervisor/embedded/kube"
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
		Env:            kube.Options{ClusterAPI: true},
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
