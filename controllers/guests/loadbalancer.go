package guests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/controllers/clustercache"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// Labels vSphere's paravirtual cloud provider puts on the
// VirtualMachineServices it makes (cloud-provider-vsphere's vmservice.go).
const (
	ClusterNameLabel      = "run.tanzu.vmware.com/cluster.name"
	ServiceNameLabel      = "run.tanzu.vmware.com/service.name"
	ServiceNamespaceLabel = "run.tanzu.vmware.com/service.namespace"

	// Annotations that carry externalTrafficPolicy: Local.
	externalTrafficPolicyAnnotation = "virtualmachineservice.vmoperator.vmware.com/service.externalTrafficPolicy"
	healthCheckNodePortAnnotation   = "virtualmachineservice.vmoperator.vmware.com/service.healthCheckNodePort"

	// maxClusterNameLength and checksumLength keep a name within 63
	// characters, as the cloud provider does.
	maxClusterNameLength = 41
	checksumLength       = 21

	// notConnectedRetry is how soon a cluster whose API is not reachable
	// yet is looked at again (the ClusterCache's source also wakes it).
	notConnectedRetry = 10 * time.Second

	// serviceWorkers bound the guest Services handled at once: a burst of
	// Services gets its VirtualMachineServices and its VIPs written in
	// parallel, not one round trip after the other.
	serviceWorkers = 8
)

// LoadBalancerReconciler turns a guest cluster's Services of type
// LoadBalancer into VirtualMachineServices and their VIPs back into the
// Services' status.
type LoadBalancerReconciler struct {
	Client       client.Client
	ClusterCache clustercache.ClusterCache

	controller controller.Controller
}

// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=clusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineservices,verbs=get;list;watch;create;update;patch;delete

// SetupWithManager watches Clusters on our infrastructure, the
// VirtualMachineServices they own, and (once connected) their guests'
// Services.
func (r *LoadBalancerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := forGuestClusters(mgr, r.ClusterCache, "guest-loadbalancer").
		Owns(&vmopv1.VirtualMachineService{}).
		Build(r)
	if err != nil {
		return fmt.Errorf("failed to set up the guest load balancer controller: %w", err)
	}
	r.controller = c
	return nil
}

// onOurInfrastructure selects Clusters whose infrastructure is a VSphereCluster.
func onOurInfrastructure() predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		c, ok := o.(*clusterv1.Cluster)
		return ok && c.Spec.InfrastructureRef.APIGroup == vmwarev1.GroupVersion.Group && c.Spec.InfrastructureRef.Kind == "VSphereCluster"
	})
}

// Reconcile makes the cluster's VirtualMachineServices follow its guest's
// LoadBalancer Services.
func (r *LoadBalancerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// A deleted cluster's VirtualMachineServices go with it: they are owned.
	cluster, guest, res, err := connect(ctx, r.Client, r.ClusterCache, r.controller, req, "guest-loadbalancer-services", &corev1.Service{})
	if guest == nil || err != nil {
		return res, err
	}
	return ctrl.Result{}, r.reconcileNormal(ctx, cluster, guest)
}

func (r *LoadBalancerReconciler) reconcileNormal(ctx context.Context, cluster *clusterv1.Cluster, guest client.Client) error {
	services := &corev1.ServiceList{}
	if err := guest.List(ctx, services); err != nil {
		return fmt.Errorf("failed to list the Services of guest cluster %s: %w", klog.KObj(cluster), err)
	}
	wanted := map[string]bool{}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	slots := make(chan struct{}, serviceWorkers)
	for i := range services.Items {
		svc := &services.Items[i]
		if !isGuestLoadBalancer(svc) {
			continue
		}
		name := VirtualMachineServiceName(cluster.Name, svc)
		wanted[name] = true
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := r.ensure(ctx, cluster, guest, svc, name); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	errs = append(errs, r.deleteStale(ctx, cluster, wanted))
	return errors.Join(errs...)
}

// isGuestLoadBalancer: a LoadBalancer Service the cloud provider serves
// (one naming another load-balancer class is someone else's).
func isGuestLoadBalancer(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil && svc.DeletionTimestamp.IsZero()
}

// VirtualMachineServiceName is the cloud provider's name for the
// VirtualMachineService of guest Service svc of cluster: the cluster name
// (at most 41 characters) and 21 hex digits of the SHA-256 of
// "<name>.<namespace>", unique across the guest's namespaces and, with the
// cluster name, across clusters.
func VirtualMachineServiceName(cluster string, svc *corev1.Service) string {
	sum := sha256.Sum256([]byte(svc.Name + "." + svc.Namespace))
	if len(cluster) > maxClusterNameLength {
		cluster = cluster[:maxClusterNameLength]
	}
	return cluster + "-" + hex.EncodeToString(sum[:])[:checksumLength]
}

// ensure creates or updates the VirtualMachineService of svc and copies
// its VIP into svc's status.
func (r *LoadBalancerReconciler) ensure(ctx context.Context, cluster *clusterv1.Cluster, guest client.Client, svc *corev1.Service, name string) error {
	log := ctrl.LoggerFrom(ctx).WithValues("guestService", klog.KObj(svc), "VirtualMachineService", klog.KRef(cluster.Namespace, name))
	ports, ok := vmServicePorts(svc)
	if !ok {
		log.V(4).Info("Waiting for the Service's node ports")
		return nil
	}
	vmsvc := &vmopv1.VirtualMachineService{ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: name}}
	op, err := controllerutil.CreateOrUpdate(ctx, r.Client, vmsvc, func() error {
		if vmsvc.Labels == nil {
			vmsvc.Labels = map[string]string{}
		}
		vmsvc.Labels[ClusterNameLabel] = cluster.Name
		vmsvc.Labels[ServiceNameLabel] = svc.Name
		vmsvc.Labels[ServiceNamespaceLabel] = svc.Namespace
		if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
			if vmsvc.Annotations == nil {
				vmsvc.Annotations = map[string]string{}
			}
			vmsvc.Annotations[externalTrafficPolicyAnnotation] = string(corev1.ServiceExternalTrafficPolicyLocal)
			vmsvc.Annotations[healthCheckNodePortAnnotation] = fmt.Sprint(svc.Spec.HealthCheckNodePort)
		} else {
			delete(vmsvc.Annotations, externalTrafficPolicyAnnotation)
			delete(vmsvc.Annotations, healthCheckNodePortAnnotation)
		}
		vmsvc.Spec = vmopv1.VirtualMachineServiceSpec{
			Type:  vmopv1.VirtualMachineServiceTypeLoadBalancer,
			Ports: ports,
			// Worker VMs only, as the cloud provider selects them.
			Selector:                 map[string]string{vmwarev1.ClusterNameLabel: cluster.Name, vmwarev1.ClusterRoleLabel: vmwarev1.RoleNode},
			LoadBalancerIP:           svc.Spec.LoadBalancerIP,
			LoadBalancerSourceRanges: svc.Spec.LoadBalancerSourceRanges,
		}
		return controllerutil.SetControllerReference(cluster, vmsvc, r.Client.Scheme())
	})
	if apierrors.IsAlreadyExists(err) {
		// An earlier reconcile created it and the cache does not show it
		// yet; its create event brings this cluster back.
		log.V(4).Info("Waiting for the cache to show the VirtualMachineService")
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to create or update VirtualMachineService %s for guest Service %s: %w", name, klog.KObj(svc), err)
	}
	if op != controllerutil.OperationResultNone {
		log.Info("VirtualMachineService for a guest LoadBalancer Service", "operation", op)
	}
	ingress := vmsvc.Status.LoadBalancer.Ingress
	if len(ingress) == 0 || sameAddresses(svc.Status.LoadBalancer.Ingress, ingress) {
		return nil
	}
	// A merge patch of the ingress alone: the cached Service may be older
	// than a write of an earlier reconcile, which an update would conflict
	// with, costing a retry.
	base := client.MergeFrom(svc.DeepCopy())
	svc.Status.LoadBalancer.Ingress = slices.Clone(ingress)
	if err := guest.Status().Patch(ctx, svc, base); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to write the VIP into guest Service %s: %w", klog.KObj(svc), err)
	}
	log.Info("Guest Service served", "ingress", ingress[0].IP)
	return nil
}

// sameAddresses compares ingress points by address only: the guest's API
// server defaults ipMode to VIP, which the VirtualMachineService's status
// does not carry, and rewriting the status every reconcile is a write per
// Service per event.
func sameAddresses(a, b []corev1.LoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y corev1.LoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname
	})
}

// vmServicePorts are svc's ports with their node ports as targets; false
// while a node port is not allocated yet.
func vmServicePorts(svc *corev1.Service) ([]vmopv1.VirtualMachineServicePort, bool) {
	var ports []vmopv1.VirtualMachineServicePort
	for _, p := range svc.Spec.Ports {
		if p.NodePort == 0 {
			return nil, false
		}
		ports = append(ports, vmopv1.VirtualMachineServicePort{Name: p.Name, Protocol: string(p.Protocol), Port: p.Port, TargetPort: p.NodePort})
	}
	return ports, len(ports) > 0
}

// deleteStale deletes the cluster's VirtualMachineServices whose guest
// Service is gone or no longer a LoadBalancer, which frees their VIPs.
func (r *LoadBalancerReconciler) deleteStale(ctx context.Context, cluster *clusterv1.Cluster, wanted map[string]bool) error {
	list := &vmopv1.VirtualMachineServiceList{}
	if err := r.Client.List(ctx, list, client.InNamespace(cluster.Namespace), client.MatchingLabels{ClusterNameLabel: cluster.Name}); err != nil {
		return fmt.Errorf("failed to list the VirtualMachineServices of cluster %s: %w", klog.KObj(cluster), err)
	}
	var errs []error
	for i := range list.Items {
		vmsvc := &list.Items[i]
		if wanted[vmsvc.Name] || !metav1.IsControlledBy(vmsvc, cluster) {
			continue
		}
		if err := r.Client.Delete(ctx, vmsvc); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("failed to delete VirtualMachineService %s: %w", klog.KObj(vmsvc), err))
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Deleted the VirtualMachineService of a guest Service that is gone",
			"VirtualMachineService", klog.KObj(vmsvc), "guestService", klog.KRef(vmsvc.Labels[ServiceNamespaceLabel], vmsvc.Labels[ServiceNameLabel]))
	}
	return errors.Join(errs...)
}

// controlPlaneInitialized: the guest's API answers from here on.
func controlPlaneInitialized(c *clusterv1.Cluster) bool {
	return c.Status.Initialization.ControlPlaneInitialized != nil && *c.Status.Initialization.ControlPlaneInitialized
}

// forGuestClusters builds a controller of the Clusters on our
// infrastructure, woken also when the ClusterCache connects to one.
func forGuestClusters(mgr ctrl.Manager, cc clustercache.ClusterCache, name string) *builder.TypedBuilder[reconcile.Request] {
	return ctrl.NewControllerManagedBy(mgr).
		For(&clusterv1.Cluster{}, builder.WithPredicates(onOurInfrastructure())).
		WatchesRawSource(cc.GetClusterSource(name, func(_ context.Context, o client.Object) []ctrl.Request {
			return []ctrl.Request{{NamespacedName: client.ObjectKeyFromObject(o)}}
		})).
		Named(name)
}

// connect reads the request's Cluster and, for one that runs, watches kind
// in its guest and returns the guest's client. A nil client with a nil
// error means there is nothing to do now (res says when to look again).
func connect(ctx context.Context, c client.Client, cc clustercache.ClusterCache, ctl controller.Controller, req ctrl.Request,
	watch string, kind client.Object) (*clusterv1.Cluster, client.Client, ctrl.Result, error) {
	cluster := &clusterv1.Cluster{}
	if err := c.Get(ctx, req.NamespacedName, cluster); err != nil {
		return nil, nil, ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cluster.DeletionTimestamp.IsZero() || !controlPlaneInitialized(cluster) {
		return nil, nil, ctrl.Result{}, nil
	}
	guest, err := guestClient(ctx, cc, ctl, cluster, watch, kind)
	if errors.Is(err, clustercache.ErrClusterNotConnected) {
		ctrl.LoggerFrom(ctx).V(4).Info("The guest cluster is not connected yet")
		return nil, nil, ctrl.Result{RequeueAfter: notConnectedRetry}, nil
	}
	return cluster, guest, ctrl.Result{}, err
}

// guestClient watches kind in cluster's guest for the controller (once per
// connection; the ClusterCache keeps track) and returns the guest's client.
func guestClient(ctx context.Context, cc clustercache.ClusterCache, c controller.Controller, cluster *clusterv1.Cluster, watch string, kind client.Object) (client.Client, error) {
	key := client.ObjectKeyFromObject(cluster)
	err := cc.Watch(ctx, key, clustercache.NewWatcher(clustercache.WatcherOptions{
		Name: watch, Watcher: c, Kind: kind,
		EventHandler: handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: key}}
		}),
	}))
	if err != nil {
		return nil, fmt.Errorf("failed to watch guest cluster %s: %w", key, err)
	}
	return cc.GetClient(ctx, key)
}
