package supervisor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/klog/v2"
	"sigs.k8s.io/cluster-api/util/patch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
)

// Finalizer keeps a Supervisor until its namespaces and everything enable
// made are gone.
const Finalizer = "vsphere.opensupervisor.io/supervisor"

// PortGroups names vCenter's portgroups: the enable spec gives a
// portgroup's managed object id, WorkloadNetworks take its name.
type PortGroups interface {
	// PortGroupName returns the name of the portgroup moref
	// (dvportgroup-22); found is false when vCenter has none.
	PortGroupName(ctx context.Context, moref string) (name string, found bool, err error)
}

// PortGroupMap is a fixed moref → name table.
type PortGroupMap map[string]string

// PortGroupName implements PortGroups.
func (m PortGroupMap) PortGroupName(_ context.Context, moref string) (string, bool, error) {
	name, ok := m[moref]
	return name, ok, nil
}

// Reconciler drives Supervisors: see the package comment.
type Reconciler struct {
	// Client is the manager's client; its cache must cover kube-system.
	Client client.Client
	// Policies finds the storage policies of the spec.
	Policies vspherenamespace.StoragePolicies
	// PortGroups names the workload network's portgroup.
	PortGroups PortGroups
	// DatastoreURL goes into the StorageClasses made for storage policies.
	DatastoreURL string
	// APIServer is host:port of the API server the endpoint's port 6443
	// forwards to; SetupWithManager takes the manager's when empty.
	APIServer string
	// Login is host:port the endpoint's port 443 forwards to (the login
	// service); APIServer when empty.
	Login string
	// Health asks the API server whether it is ready; SetupWithManager
	// uses the manager's discovery REST client when nil.
	Health Health
	// EndpointCertificate, when set, makes the API server serve a
	// certificate valid for the endpoint VIP and the spec's
	// Master_DNS_names, and returns it (PEM). When nil the certificate the
	// API server serves at APIServer is reported.
	EndpointCertificate func(ctx context.Context, vip netip.Addr, dnsNames []string) ([]byte, error)
	// EndpointCA is the CA the endpoint's certificate chains to, published
	// in kube-public/vip-cluster-info; the certificate itself when empty.
	EndpointCA []byte
	// ControlPlaneServes says the control-plane VMs serve the API on ports
	// 6443 and 443 of their management addresses (on vSphere they run it;
	// the embedded stack's simulated guests forward to it), so the
	// endpoint's backends are their addresses. When false the endpoint
	// forwards to APIServer and Login.
	ControlPlaneServes bool
	// ControlPlaneImage names the ClusterVirtualMachineImage the
	// control-plane VMs are cloned from; the newest Kubernetes release's
	// image when empty.
	ControlPlaneImage string
	// ResyncInterval is how often kubernetes_status is checked again (30 s).
	ResyncInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	servedCertificate func(ctx context.Context, addr string) ([]byte, error)
	resolver          *net.Resolver
}

// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=supervisors,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=supervisors/status;supervisors/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=vspherenamespaces,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=workloadnetworks,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=lbapi.opensupervisor.io,resources=loadbalancers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachines;virtualmachineclasses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=clustervirtualmachineimages,verbs=get;list;watch
// +kubebuilder:rbac:urls=/readyz,verbs=get

// SetupWithManager registers the controller. Changes of what it made
// requeue the Supervisor, and so does a VSphereNamespace of its cluster
// while the Supervisor is being disabled.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	cfg := mgr.GetConfig()
	if r.APIServer == "" {
		addr, err := hostPort(cfg.Host)
		if err != nil {
			return fmt.Errorf("failed to find the API server's address for the supervisor endpoint: %w", err)
		}
		r.APIServer = addr
	}
	if r.Login == "" {
		r.Login = r.APIServer
	}
	if r.Health == nil {
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return fmt.Errorf("failed to make a client for the API server's /readyz: %w", err)
		}
		r.Health = RESTHealth{Client: dc.RESTClient()}
	}
	if r.ResyncInterval == 0 {
		r.ResyncInterval = 30 * time.Second
	}
	r.servedCertificate = ServedCertificate(cfg)
	r.resolver = net.DefaultResolver
	err := ctrl.NewControllerManagedBy(mgr).
		For(&vspherev1.Supervisor{}).
		Owns(&lbv1.LoadBalancer{}).
		Owns(&vspherev1.WorkloadNetwork{}).
		Owns(&corev1.Service{}).
		Owns(&discoveryv1.EndpointSlice{}).
		Owns(&vmopv1.VirtualMachine{}).
		Owns(&vmopv1.VirtualMachineClass{}).
		Owns(&corev1.ConfigMap{}).
		Watches(&vmopv1.ClusterVirtualMachineImage{}, handler.EnqueueRequestsFromMapFunc(r.allSupervisors)).
		Watches(&vspherev1.VSphereNamespace{}, handler.EnqueueRequestsFromMapFunc(r.supervisorBeingDisabled)).
		Named("supervisor").
		Complete(r)
	if err != nil {
		return fmt.Errorf("failed to set up the Supervisor controller: %w", err)
	}
	return nil
}

// hostPort is host:port of a REST config's Host (a URL or host:port).
func hostPort(host string) (string, error) {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		u, err = url.Parse("https://" + host)
	}
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("cannot read host and port from %q", host)
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// allSupervisors maps a change every Supervisor may depend on (a node
// image being published) to all of them.
func (r *Reconciler) allSupervisors(ctx context.Context, _ client.Object) []reconcile.Request {
	var list vspherev1.SupervisorList
	if err := r.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list Supervisors")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, sv := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: sv.Name}})
	}
	return out
}

// supervisorBeingDisabled maps a VSphereNamespace to its Supervisor only
// while that is being deleted: it waits for its namespaces then.
func (r *Reconciler) supervisorBeingDisabled(ctx context.Context, o client.Object) []reconcile.Request {
	vns, ok := o.(*vspherev1.VSphereNamespace)
	if !ok || vns.Spec.Cluster == "" {
		return nil
	}
	sv := &vspherev1.Supervisor{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: vns.Spec.Cluster}, sv); err != nil || sv.DeletionTimestamp.IsZero() {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: sv.Name}}}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ownedConditions are the Supervisor conditions this controller writes.
var ownedConditions = []string{
	vspherev1.SupervisorStorageReadyCondition, vspherev1.SupervisorNetworkReadyCondition,
	vspherev1.SupervisorLoadBalancerReadyCondition, vspherev1.SupervisorControlPlaneReadyCondition,
}

// Reconcile enables or disables Workload Management on one cluster; the
// status is patched once, on the way out.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	sv := &vspherev1.Supervisor{}
	if err := r.Client.Get(ctx, req.NamespacedName, sv); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("Supervisor", klog.KObj(sv))
	ctx = ctrl.LoggerInto(ctx, log)
	helper, err := patch.NewHelper(sv, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to prepare patching Supervisor %s: %w", sv.Name, err)
	}
	observed := false
	defer func() {
		opts := []patch.Option{patch.WithOwnedConditions{Conditions: ownedConditions}}
		if reterr == nil && observed {
			opts = append(opts, patch.WithStatusObservedGeneration{})
		}
		if err := helper.Patch(ctx, sv, opts...); err != nil && !apierrors.IsNotFound(err) {
			reterr = kerrors.NewAggregate([]error{reterr, fmt.Errorf("failed to patch Supervisor %s: %w", sv.Name, err)})
		}
	}()

	if !sv.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, sv)
	}
	if controllerutil.AddFinalizer(sv, Finalizer) {
		setConfiguring(sv, "Enabling Workload Management")
		return ctrl.Result{}, nil
	}
	res, err := r.reconcileNormal(ctx, sv)
	observed = err == nil
	return res, err
}

// reconcileNormal makes what the spec asks for, each part independently of
// the others' problems, and reports where enabling stands.
func (r *Reconciler) reconcileNormal(ctx context.Context, sv *vspherev1.Supervisor) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	obs := &observation{}
	if err := r.reconcileStorage(ctx, sv, obs); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileNetworks(ctx, sv, obs); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileLoadBalancer(ctx, sv, obs); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileControlPlane(ctx, sv, obs); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileEndpoint(ctx, sv, obs); err != nil {
		return ctrl.Result{}, err
	}
	r.observeEndpointCertificate(ctx, sv, obs)
	obs.kubeErr = r.Health.Readyz(ctx)

	before, beforeKube := sv.Status.ConfigStatus, sv.Status.KubernetesStatus
	setStatus(sv, obs)
	if err := r.reconcileClusterInfo(ctx, sv, obs); err != nil {
		return ctrl.Result{}, err
	}
	if sv.Status.ConfigStatus != before || sv.Status.KubernetesStatus != beforeKube {
		log.Info("Workload Management status changed", "configStatus", sv.Status.ConfigStatus, "was", before,
			"kubernetesStatus", sv.Status.KubernetesStatus, "endpoint", sv.Status.APIServerClusterEndpoint)
	}
	return ctrl.Result{RequeueAfter: r.ResyncInterval}, nil
}

// observeEndpointCertificate records the endpoint's certificate once its
// VIP is known; a failure is logged and the last certificate kept.
func (r *Reconciler) observeEndpointCertificate(ctx context.Context, sv *vspherev1.Supervisor, obs *observation) {
	if !obs.vip.IsValid() {
		return
	}
	var cert []byte
	var err error
	if r.EndpointCertificate != nil {
		cert, err = r.EndpointCertificate(ctx, obs.vip, sv.Spec.MasterDNSNames)
	} else if r.servedCertificate != nil {
		cert, err = r.servedCertificate(ctx, r.APIServer)
	}
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to get the endpoint's certificate", "vip", obs.vip)
		return
	}
	obs.certificate = cert
}

// reconcileDelete disables Workload Management: the cluster's vSphere
// Namespaces first (their clusters and VMs go with them), then the
// endpoint, then, once lbapi has let go of the VIPs, the control-plane VMs,
// the LoadBalancer, the WorkloadNetworks, the StorageClasses of the
// policies and the Data Plane API credentials. The finalizer
// goes last.
func (r *Reconciler) reconcileDelete(ctx context.Context, sv *vspherev1.Supervisor) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)

	waiting, err := r.deleteNamespaces(ctx, sv)
	if err != nil || waiting != "" {
		setRemoving(sv, waiting)
		return ctrl.Result{}, err
	}
	waiting, err = r.deleteEndpoint(ctx, sv)
	if err != nil || waiting != "" {
		setRemoving(sv, waiting)
		return ctrl.Result{}, err
	}
	waiting, after, err := r.waitForVIPRelease(ctx, sv)
	if err != nil || waiting != "" {
		setRemoving(sv, waiting)
		return ctrl.Result{RequeueAfter: after}, err
	}
	waiting, err = r.deleteControlPlane(ctx, sv)
	if err != nil || waiting != "" {
		setRemoving(sv, waiting)
		return ctrl.Result{}, err
	}
	waiting, err = r.deleteOwned(ctx, sv)
	if err != nil || waiting != "" {
		setRemoving(sv, waiting)
		return ctrl.Result{}, err
	}
	if err := r.deleteStorageClasses(ctx, sv); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.deleteCredentials(ctx, sv); err != nil {
		return ctrl.Result{}, err
	}
	setRemoving(sv, "Workload Management is disabled")
	log.Info("Workload Management disabled")
	controllerutil.RemoveFinalizer(sv, Finalizer)
	return ctrl.Result{}, nil
}
