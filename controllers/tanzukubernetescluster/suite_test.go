package tanzukubernetescluster

import (
	"context"
	"os"
	"testing"

	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/controllers/vmservice"
	"github.com/open-supervisor/supervisor/embedded/kube"
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
	os.Exit(envtest.RunSuite(m, envtest.SuiteOptions{
		Env:            kube.Options{ClusterAPI: true},
		ManagerOptions: clusterapi.ManagerOptions,
		Setup: func(ctx context.Context, s *envtest.Suite) error {
			mgr := s.Manager
			if _, err := clusterapi.Setup(ctx, mgr, clusterapi.Options{}); err != nil {
				return err
			}
			if err := SetupWebhooks(mgr, &ClientLookups{Reader: mgr.GetClient()}, &ClientLookups{Reader: mgr.GetAPIReader()}); err != nil {
				return err
			}
			// The VM classes the namespaces get go through the VM service's webhooks.
			if err := vmservice.SetupWebhooks(mgr); err != nil {
				return err
			}
			r := &Reconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("tanzukubernetescluster-controller")}
			return r.SetupWithManager(ctx, mgr)
		},
		Ready: func(ctx context.Context, s *envtest.Suite) error {
			testClient = s.Client
			if err := CreateShippedReleases(ctx, testClient); err != nil {
				return err
			}
			return testClient.Create(ctx, &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "k8s-storage"}, Provisioner: "csi.vsphere.vmware.com"})
		},
	}))
}

// newVSphereNamespace creates a vSphere Namespace of the test's own with
// the default VM classes, as controllers/namespace installs them.
func newVSphereNamespace(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := envtest.NewNamespace(t, testClient, "tkc-", map[string]string{namespace.VSphereNamespaceLabel: "true"})
	for _, c := range namespace.DefaultClasses(ns) {
		if err := testClient.Create(ctx, c); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	return ns
}
