package vspherenamespace

import (
	"context"
	"fmt"
	"k8s.io/client-go/rest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/controllers/vmservice"
	"github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/wait"
)

// testClient talks to the API server directly.
var testClient client.Client

// testPolicies are the test's vCenter storage policies.
var testPolicies = &fakePolicies{byID: map[string]StoragePolicy{
	"policy-gold":   {ID: "policy-gold", Name: "Gold Tier", StorageClass: "gold-tier"},
	"policy-silver": {ID: "policy-silver", Name: "Silver", StorageClass: "silver"},
}}

const testDatastoreURL = "ds:///vmfs/volumes/test-datastore/"

// timeout bounds each wait for the controllers (kube-controller-manager's
// namespace controller included).
const timeout = 60 * time.Second

// testConfig is the admin's config of the suite's API server.
var testConfig *rest.Config

// TestMain starts kube-apiserver, etcd and kube-controller-manager (its
// namespace controller empties deleted namespaces) and one manager running
// the catalog seeding, the default-class controller of hand-labelled
// namespaces and the VSphereNamespace controller.
func TestMain(m *testing.M) {
	os.Exit(envtest.RunSuite(m, envtest.SuiteOptions{
		Setup: func(ctx context.Context, s *envtest.Suite) error {
			mgr := s.Manager
			// The catalog's VM classes go through the VM service's webhooks.
			if err := vmservice.SetupWebhooks(mgr); err != nil {
				return err
			}
			if err := mgr.Add(&namespace.CatalogSeeder{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}); err != nil {
				return err
			}
			if err := (&namespace.Reconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
				return err
			}
			return (&Reconciler{Client: mgr.GetClient(), Policies: testPolicies, DatastoreURL: testDatastoreURL}).SetupWithManager(mgr)
		},
		Ready: func(ctx context.Context, s *envtest.Suite) error {
			testClient = s.Client
			testConfig = s.Env.Config
			return wait.Poll(ctx, wait.Interval, timeout, "the VM class catalog", func() (bool, error) {
				var list vmopv1.VirtualMachineClassList
				err := testClient.List(ctx, &list, client.InNamespace(vspherev1.VMClassCatalogNamespace))
				return err == nil && len(list.Items) == 16, err
			})
		},
	}))
}

type fakePolicies struct {
	mu   sync.Mutex
	byID map[string]StoragePolicy
}

func (f *fakePolicies) StoragePolicy(_ context.Context, id string) (StoragePolicy, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.byID[id]
	return p, ok, nil
}

var serial atomic.Int32

// uniqueName is a namespace name of the test's own.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, serial.Add(1))
}
