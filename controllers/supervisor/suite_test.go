package supervisor

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/controllers/vmservice"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/test/envtest"
)

var (
	testClient client.Client
	// apiServer is host:port of the suite's kube-apiserver.
	apiServer string
)

var testPolicies = &fakePolicies{byID: map[string]vspherenamespace.StoragePolicy{
	"policy-gold":   {ID: "policy-gold", Name: "Gold Tier", StorageClass: "gold-tier"},
	"policy-silver": {ID: "policy-silver", Name: "Silver", StorageClass: "silver"},
}}

var testPortGroups = PortGroupMap{"dvportgroup-21": "management", "dvportgroup-22": "workload"}

const testDatastoreURL = "ds:///vmfs/volumes/test-datastore/"

const timeout = 60 * time.Second

// TestMain starts kube-apiserver, etcd and kube-controller-manager and one
// manager with lbapi's LoadBalancer webhook, the VSphereNamespace and the
// Supervisor controllers. lbapi itself does not run: tests write the
// LoadBalancer's and the Service's status as lbapi would. Nor does the VM
// service: tests write the VMs' status, and a stand-in lets deleted VMs go.
func TestMain(m *testing.M) {
	os.Exit(envtest.RunSuite(m, envtest.SuiteOptions{
		Setup: func(ctx context.Context, s *envtest.Suite) error {
			mgr := s.Manager
			if err := ctrl.NewWebhookManagedBy(mgr, &lbv1.LoadBalancer{}).
				WithValidator(&lbcontroller.LoadBalancerValidator{Reader: mgr.GetAPIReader()}).Complete(); err != nil {
				return err
			}
			// Control-plane VMs and VM classes go through the VM service's webhooks.
			if err := vmservice.SetupWebhooks(mgr); err != nil {
				return err
			}
			if err := ctrl.NewControllerManagedBy(mgr).Named("vm-delete-stand-in").For(&vmopv1.VirtualMachine{}).
				Complete(&vmDeleteStandIn{Client: mgr.GetClient()}); err != nil {
				return err
			}
			if err := (&vspherenamespace.Reconciler{Client: mgr.GetClient(), Policies: testPolicies, DatastoreURL: testDatastoreURL}).SetupWithManager(mgr); err != nil {
				return err
			}
			r := &Reconciler{Client: mgr.GetClient(), Policies: testPolicies, PortGroups: testPortGroups, DatastoreURL: testDatastoreURL, ResyncInterval: 2 * time.Second}
			if err := r.SetupWithManager(mgr); err != nil {
				return err
			}
			apiServer = r.APIServer
			return nil
		},
		Ready: func(ctx context.Context, s *envtest.Suite) error {
			testClient = s.Client
			return nil
		},
	}))
}

// vmDeleteStandIn lets a deleted VirtualMachine go, as the VM service
// would once its VM is gone from vCenter. The VM service does not run
// here; its webhook gives every VirtualMachine its finalizer at create.
type vmDeleteStandIn struct {
	client.Client
}

func (r *vmDeleteStandIn) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	vm := &vmopv1.VirtualMachine{}
	if err := r.Get(ctx, req.NamespacedName, vm); err != nil || vm.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := vm.DeepCopy()
	if controllerutil.RemoveFinalizer(vm, vmopv1.VirtualMachineFinalizer) {
		return ctrl.Result{}, client.IgnoreNotFound(r.Patch(ctx, vm, client.MergeFrom(base)))
	}
	return ctrl.Result{}, nil
}

type fakePolicies struct {
	mu   sync.Mutex
	byID map[string]vspherenamespace.StoragePolicy
}

func (f *fakePolicies) StoragePolicy(_ context.Context, id string) (vspherenamespace.StoragePolicy, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.byID[id]
	return p, ok, nil
}
