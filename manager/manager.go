package manager

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"sigs.k8s.io/cluster-api/controllers/clustercache"
	ctrl "sigs.k8s.io/controller-runtime"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/guests"
	"github.com/open-supervisor/supervisor/controllers/namespace"
	"github.com/open-supervisor/supervisor/controllers/supervisor"
	"github.com/open-supervisor/supervisor/controllers/tanzukubernetescluster"
	"github.com/open-supervisor/supervisor/controllers/tanzukubernetesrelease"
	"github.com/open-supervisor/supervisor/controllers/vmservice"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
	lbcontroller "github.com/open-supervisor/supervisor/lbapi/controller"
	"github.com/open-supervisor/supervisor/providers/clusterapi"
	"github.com/open-supervisor/supervisor/providers/vsphere"
	"github.com/open-supervisor/supervisor/providers/vsphere/infrastructure"
	"github.com/open-supervisor/supervisor/providers/vsphere/storagepolicy"
)

// Part is one group of controllers and webhooks Setup can register.
type Part string

// The parts of the supervisor. A production manager runs them all; the
// test harness spreads them over several managers (the webhooks and
// Cluster API once per test binary, the rest per test).
const (
	// Webhooks: admission and conversion of the supervisor's own kinds.
	Webhooks Part = "webhooks"
	// ClusterAPI: Cluster API core, KubeadmControlPlane and the kubeadm
	// bootstrap provider, with their webhooks.
	ClusterAPI Part = "clusterapi"
	// Releases: TanzuKubernetesReleases from the shipped releases.
	Releases Part = "releases"
	// VMService: the VM service and the image catalog (needs vCenter).
	VMService Part = "vmservice"
	// Namespaces: default VM classes in namespaces labelled as vSphere
	// Namespaces by hand.
	Namespaces Part = "namespaces"
	// VSphereNamespaces: vSphere Namespaces (VSphereNamespace → Namespace,
	// VM classes, storage, quotas, role bindings) and the seeding of the
	// VM class catalog. Needs a manager whose cache covers every namespace.
	VSphereNamespaces Part = "vspherenamespaces"
	// Supervisors: Workload Management on a vSphere cluster (Supervisor →
	// LoadBalancer, WorkloadNetwork, StorageClasses, the endpoint Service).
	// Needs a manager whose cache covers kube-system.
	Supervisors Part = "supervisors"
	// Infrastructure: the Cluster API infrastructure provider
	// (VSphereCluster, VSphereMachine).
	Infrastructure Part = "infrastructure"
	// TanzuKubernetesClusters: TanzuKubernetesCluster → Cluster API objects.
	TanzuKubernetesClusters Part = "tanzukubernetesclusters"
	// LoadBalancers: lbapi, Service and VirtualMachineService VIPs on HAProxy.
	LoadBalancers Part = "loadbalancers"
	// Guests: what the supervisor keeps in guest clusters (the paravirtual
	// cloud provider's LoadBalancer Services, the auth-sync bindings).
	// Needs the ClusterAPI part's ClusterCache, so the same manager.
	Guests Part = "guests"
	// Login: the login service of kubectl vsphere login (/wcp/*) and the
	// rotation of its signing keys.
	Login Part = "login"
)

// AllParts is every part, in the order Setup registers them.
var AllParts = []Part{Webhooks, ClusterAPI, Releases, VMService, Namespaces, VSphereNamespaces, Supervisors, Infrastructure, TanzuKubernetesClusters, LoadBalancers, Guests, Login}

// Options configure Setup.
type Options struct {
	// Parts to register; AllParts when empty.
	Parts []Part
	// ClusterAPI configures the in-process Cluster API.
	ClusterAPI clusterapi.Options
	// ConnectionRetryInterval, when set, is how long the ClusterCache waits
	// after a failed first connection to a workload cluster (Cluster API's
	// 30 s is for real guests; simulated ones answer within seconds).
	ConnectionRetryInterval time.Duration
	// VSphere configures the VM service: how to reach vCenter and where VMs go.
	VSphere vsphere.Options
	// Infrastructure tunes the infrastructure provider.
	Infrastructure infrastructure.Options
	// LoadBalancer names the LoadBalancer serving VIPs ("" = the only one).
	LoadBalancer string
	// RetryRejected is how soon lbapi retries a configuration HAProxy
	// rejected (lbapi's default when zero).
	RetryRejected time.Duration
	// HAProxyReloadEvery, when non-zero, has lbapi reload HAProxy with
	// each commit, at most once per HAProxyReloadEvery, instead of waiting
	// for the appliance's reload delay (lbcontroller.Reconciler.ReloadEvery).
	HAProxyReloadEvery time.Duration
	// WorkloadManagement configures VSphereNamespaces and Supervisors.
	WorkloadManagement WorkloadManagementOptions
	// Login configures the login service.
	Login LoginOptions
}

// WorkloadManagementOptions configure the VSphereNamespaces and
// Supervisors parts.
type WorkloadManagementOptions struct {
	// StoragePolicies is vCenter's storage policies, cached; the REST API
	// shares the same cache. Nil: every storage policy a spec names is
	// reported as unusable.
	StoragePolicies *storagepolicy.Cache
	// PortGroups names portgroups by managed object id. Nil: the enable
	// spec's portgroup is reported as unusable.
	PortGroups supervisor.PortGroups
	// DatastoreURL is the datastoreURL parameter of the StorageClasses made
	// for storage policies: where the VM service places their disks.
	DatastoreURL string
	// CPUMHzPerCore turns a namespace's CPU limit in MHz into Kubernetes
	// CPUs (1000 MHz per CPU when zero).
	CPUMHzPerCore int64
	// APIServerEndpoint is host:port the supervisor endpoint's port 6443
	// forwards to; the manager's API server (its rest config's host) when
	// empty.
	APIServerEndpoint string
	// LoginEndpoint is host:port the endpoint's port 443 forwards to;
	// APIServerEndpoint when empty.
	LoginEndpoint string
	// EndpointCertificate, when set, makes the API server serve a
	// certificate for the endpoint VIP and the enable spec's DNS names and
	// returns it in PEM (the embedded stack's kube.Environment.ServeEndpoint).
	// When nil the certificate served at APIServerEndpoint is reported.
	EndpointCertificate func(ctx context.Context, vip netip.Addr, dnsNames []string) ([]byte, error)
	// EndpointCA is the CA of the endpoint's certificate, published in
	// kube-public/vip-cluster-info (the certificate itself when nil).
	EndpointCA []byte
	// ControlPlaneServes: the control-plane VMs serve the API on their
	// management addresses, so the endpoint VIP forwards to them (the
	// embedded stack's simulated guests do). Otherwise it forwards to
	// APIServerEndpoint and LoginEndpoint.
	ControlPlaneServes bool
	// ControlPlaneImage names the ClusterVirtualMachineImage the
	// supervisor's control-plane VMs are cloned from; the newest
	// Kubernetes release's image when empty.
	ControlPlaneImage string
}

// Supervisor is what Setup registered, for callers that need to reach in
// (the embedded stack, tests, benchmarks).
type Supervisor struct {
	// ClusterCache is Cluster API's one ClusterCache (with ClusterAPI).
	ClusterCache clustercache.ClusterCache
	// VSphere is the running VM service (with VMService).
	VSphere *vsphere.Provider
	// LoadBalancers is lbapi's reconciler (with LoadBalancers).
	LoadBalancers *lbcontroller.Reconciler

	// policies is the storage policy cache VSphereNamespaces and
	// Supervisors share.
	policies vspherenamespace.StoragePolicies
}

// Setup registers the parts o asks for on mgr. mgr must use api.NewScheme,
// and clusterapi.ManagerOptions when ClusterAPI is among the parts.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) (*Supervisor, error) {
	parts := o.Parts
	if len(parts) == 0 {
		parts = AllParts
	}
	s := &Supervisor{policies: policyCache(o.WorkloadManagement.StoragePolicies)}
	for _, part := range AllParts {
		if !slices.Contains(parts, part) {
			continue
		}
		if err := s.setup(ctx, mgr, part, o); err != nil {
			return nil, fmt.Errorf("failed to set up %s: %w", part, err)
		}
	}
	return s, nil
}

func (s *Supervisor) setup(ctx context.Context, mgr ctrl.Manager, part Part, o Options) error {
	switch part {
	case Webhooks:
		return setupWebhooks(mgr)
	case ClusterAPI:
		cc, err := clusterapi.Setup(ctx, mgr, o.ClusterAPI)
		if err != nil {
			return err
		}
		if o.ConnectionRetryInterval > 0 {
			if r, ok := cc.(interface{ SetConnectionCreationRetryInterval(time.Duration) }); ok {
				r.SetConnectionCreationRetryInterval(o.ConnectionRetryInterval)
			}
		}
		s.ClusterCache = cc
		return nil
	case Releases:
		return (&tanzukubernetesrelease.Reconciler{Client: mgr.GetClient()}).SetupWithManager(mgr)
	case VMService:
		p, err := vsphere.Setup(ctx, mgr, o.VSphere)
		s.VSphere = p
		return err
	case Namespaces:
		return (&namespace.Reconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}).SetupWithManager(mgr)
	case VSphereNamespaces:
		if err := mgr.Add(&namespace.CatalogSeeder{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}); err != nil {
			return err
		}
		if err := mgr.Add(&vspherenamespace.RoleSeeder{Client: mgr.GetClient()}); err != nil {
			return err
		}
		return (&vspherenamespace.Reconciler{
			Client: mgr.GetClient(), Policies: s.policies,
			DatastoreURL: o.WorkloadManagement.DatastoreURL, CPUMHzPerCore: o.WorkloadManagement.CPUMHzPerCore,
		}).SetupWithManager(mgr)
	case Supervisors:
		w := o.WorkloadManagement
		return (&supervisor.Reconciler{
			Client: mgr.GetClient(), Policies: s.policies, PortGroups: w.PortGroups, DatastoreURL: w.DatastoreURL,
			APIServer: w.APIServerEndpoint, Login: w.LoginEndpoint, EndpointCertificate: w.EndpointCertificate,
			ControlPlaneImage: w.ControlPlaneImage, ControlPlaneServes: w.ControlPlaneServes, EndpointCA: w.EndpointCA,
		}).SetupWithManager(mgr)
	case Infrastructure:
		return infrastructure.Setup(ctx, mgr, o.Infrastructure)
	case TanzuKubernetesClusters:
		return (&tanzukubernetescluster.Reconciler{
			Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("tanzukubernetescluster-controller"),
		}).SetupWithManager(ctx, mgr)
	case LoadBalancers:
		s.LoadBalancers = &lbcontroller.Reconciler{
			Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("lbapi"),
			LoadBalancer: o.LoadBalancer, RetryRejected: o.RetryRejected, ReloadEvery: o.HAProxyReloadEvery,
		}
		return s.LoadBalancers.SetupWithManager(mgr)
	case Guests:
		if s.ClusterCache == nil {
			return fmt.Errorf("the %s part needs the %s part's ClusterCache in the same manager", Guests, ClusterAPI)
		}
		if err := (&guests.LoadBalancerReconciler{Client: mgr.GetClient(), ClusterCache: s.ClusterCache}).SetupWithManager(mgr); err != nil {
			return err
		}
		if err := (&guests.ProviderServiceAccountReconciler{Client: mgr.GetClient(), ClusterCache: s.ClusterCache}).SetupWithManager(mgr); err != nil {
			return err
		}
		return (&guests.AuthReconciler{Client: mgr.GetClient(), ClusterCache: s.ClusterCache}).SetupWithManager(mgr)
	case Login:
		return setupLogin(mgr, o.Login)
	}
	return fmt.Errorf("unknown part %q", part)
}

// policyCache adapts vCenter's storage policies to the controllers,
// naming each policy's StorageClass as vSphere does.
func policyCache(c *storagepolicy.Cache) vspherenamespace.StoragePolicies {
	if c == nil {
		return nil
	}
	return classNamedPolicies{c}
}

type classNamedPolicies struct{ cache *storagepolicy.Cache }

func (c classNamedPolicies) StoragePolicy(ctx context.Context, id string) (vspherenamespace.StoragePolicy, bool, error) {
	p, found, err := c.cache.Policy(ctx, id)
	if err != nil || !found {
		return vspherenamespace.StoragePolicy{}, found, err
	}
	return vspherenamespace.StoragePolicy{ID: p.ID, Name: p.Name, StorageClass: storagepolicy.StorageClassName(p.Name)}, true, nil
}

// setupWebhooks registers the supervisor's own webhooks: the
// LoadBalancer's validation and the TanzuKubernetesClusters' defaulting,
// validation and conversion (Cluster API's come with ClusterAPI).
func setupWebhooks(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &lbv1.LoadBalancer{}).
		WithValidator(&lbcontroller.LoadBalancerValidator{Reader: mgr.GetAPIReader()}).
		Complete(); err != nil {
		return fmt.Errorf("LoadBalancer webhook: %w", err)
	}
	if err := tanzukubernetescluster.SetupWebhooks(mgr, &tanzukubernetescluster.ClientLookups{Reader: mgr.GetClient()}, &tanzukubernetescluster.ClientLookups{Reader: mgr.GetAPIReader()}); err != nil {
		return fmt.Errorf("TanzuKubernetesCluster webhooks: %w", err)
	}
	if err := infrastructure.SetupWebhooks(mgr); err != nil {
		return fmt.Errorf("vmware.infrastructure.cluster.x-k8s.io webhooks: %w", err)
	}
	if err := vmservice.SetupWebhooks(mgr); err != nil {
		return fmt.Errorf("vmoperator.vmware.com webhooks: %w", err)
	}
	return nil
}
