package guestsim

import (
	"context"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/controllers/vmservice"
	"github.com/open-supervisor/supervisor/embedded/kube"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere/infrastructure"
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
	os.Exit(envtest.RunSuite(m, envtest.SuiteOptions{
		Env:            kube.Options{ClusterAPI: true},
		ManagerOptions: clusterapi.ManagerOptions,
		Setup: func(ctx context.Context, s *envtest.Suite) error {
			clusterCache, err := clusterapi.Setup(ctx, s.Manager, clusterapi.Options{})
			if err != nil {
				return err
			}
			// The VMs and infrastructure objects the tests write go through
			// their webhooks, which the API server calls.
			if err := vmservice.SetupWebhooks(s.Manager); err != nil {
				return err
			}
			if err := infrastructure.SetupWebhooks(s.Manager); err != nil {
				return err
			}
			// The ClusterCache tries a Cluster as soon as its infrastructure is
			// provisioned, long before the first control plane boots, and waits 30s
			// after each failure; Cluster API's own tests shorten that the same way.
			clusterCache.(interface{ SetConnectionCreationRetryInterval(time.Duration) }).
				SetConnectionCreationRetryInterval(time.Second)
			stateDir, err := os.MkdirTemp("", "guestsim-")
			if err != nil {
				return err
			}
			sim, err = Setup(s.Manager, Options{
				MinPort: testMinPort, MaxPort: testMaxPort, EtcdServers: s.Env.EtcdServers(), StateDir: stateDir,
			})
			testClient = s.Client
			return err
		},
	}))
}
