package supervisor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/controllers/vspherenamespace"
)

// vipReleaseTimeout bounds how long disabling waits for lbapi to take the
// VIPs off HAProxy before deleting the LoadBalancer: a Service of type
// LoadBalancer outside the vSphere Namespaces would hold one forever.
const vipReleaseTimeout = time.Minute

// deleteNamespaces deletes the cluster's VSphereNamespaces and says what
// it waits for while any is left. Their deletion requeues.
func (r *Reconciler) deleteNamespaces(ctx context.Context, sv *vspherev1.Supervisor) (string, error) {
	var list vspherev1.VSphereNamespaceList
	if err := r.Client.List(ctx, &list); err != nil {
		return "", fmt.Errorf("failed to list VSphereNamespaces: %w", err)
	}
	var left []string
	for i := range list.Items {
		vns := &list.Items[i]
		if vns.Spec.Cluster != sv.Name {
			continue
		}
		left = append(left, vns.Name)
		if !vns.DeletionTimestamp.IsZero() {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Deleting vSphere Namespace", "VSphereNamespace", klog.KObj(vns))
		if err := r.Client.Delete(ctx, vns); err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("failed to delete VSphereNamespace %s: %w", vns.Name, err)
		}
	}
	if len(left) == 0 {
		return "", nil
	}
	sort.Strings(left)
	return fmt.Sprintf("Waiting for %d vSphere Namespaces to be deleted: %s", len(left), strings.Join(left, ", ")), nil
}

// deleteEndpoint deletes the endpoint Service and its EndpointSlices.
func (r *Reconciler) deleteEndpoint(ctx context.Context, sv *vspherev1.Supervisor) (string, error) {
	var slices discoveryv1.EndpointSliceList
	if err := r.Client.List(ctx, &slices, client.InNamespace(EndpointServiceNamespace), client.MatchingLabels{discoveryv1.LabelServiceName: EndpointServiceName}); err != nil {
		return "", fmt.Errorf("failed to list the endpoint's EndpointSlices: %w", err)
	}
	objs := []client.Object{&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: EndpointServiceNamespace, Name: EndpointServiceName}}}
	for i := range slices.Items {
		objs = append(objs, &slices.Items[i])
	}
	return r.deleteAndWait(ctx, sv, objs, "the endpoint Service")
}

// waitForVIPRelease waits, for at most vipReleaseTimeout after disabling
// began, until lbapi reports no VIP in use on a reachable LoadBalancer:
// then HAProxy no longer serves the endpoint. A load balancer that is not
// reachable cannot be cleaned, so it is not waited for.
func (r *Reconciler) waitForVIPRelease(ctx context.Context, sv *vspherev1.Supervisor) (string, time.Duration, error) {
	lb := &lbv1.LoadBalancer{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: sv.Spec.LoadBalancer.ID}, lb)
	if apierrors.IsNotFound(err) || (err == nil && !metav1.IsControlledBy(lb, sv)) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("failed to get LoadBalancer %s: %w", sv.Spec.LoadBalancer.ID, err)
	}
	if !meta.IsStatusConditionTrue(lb.Status.Conditions, lbv1.ConditionDataPlaneAPIReachable) || lb.Status.VIPsInUse == 0 {
		return "", 0, nil
	}
	left := sv.DeletionTimestamp.Add(vipReleaseTimeout).Sub(r.now())
	if left <= 0 {
		ctrl.LoggerFrom(ctx).Info("Deleting the load balancer with VIPs still in use", "LoadBalancer", klog.KObj(lb), "vipsInUse", lb.Status.VIPsInUse)
		return "", 0, nil
	}
	// The LoadBalancer's status updates requeue; so does the deadline.
	return fmt.Sprintf("Waiting for load balancer %s to release its %d VIPs", lb.Name, lb.Status.VIPsInUse), left, nil
}

// deleteControlPlane deletes the control-plane VMs (the VM service removes
// them from vCenter and releases their addresses) and their class.
func (r *Reconciler) deleteControlPlane(ctx context.Context, sv *vspherev1.Supervisor) (string, error) {
	objs := make([]client.Object, 0, vspherev1.ControlPlaneVMCount+1)
	for i := 1; i <= vspherev1.ControlPlaneVMCount; i++ {
		objs = append(objs, &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.SupervisorSystemNamespace, Name: controlPlaneVMName(i)}})
	}
	waiting, err := r.deleteAndWait(ctx, sv, objs, "the control-plane VMs")
	if err != nil || waiting != "" {
		return waiting, err
	}
	var classes vmopv1.VirtualMachineClassList
	if err := r.Client.List(ctx, &classes, client.InNamespace(vspherev1.SupervisorSystemNamespace)); err != nil {
		return "", fmt.Errorf("failed to list the control-plane VM classes: %w", err)
	}
	objs = objs[:0]
	for i := range classes.Items {
		if strings.HasPrefix(classes.Items[i].Name, ControlPlaneClassPrefix) {
			objs = append(objs, &classes.Items[i])
		}
	}
	return r.deleteAndWait(ctx, sv, objs, "the control-plane VM class")
}

// deleteOwned deletes the LoadBalancer and the WorkloadNetworks.
func (r *Reconciler) deleteOwned(ctx context.Context, sv *vspherev1.Supervisor) (string, error) {
	objs := []client.Object{&lbv1.LoadBalancer{ObjectMeta: metav1.ObjectMeta{Name: sv.Spec.LoadBalancer.ID}}}
	var networks vspherev1.WorkloadNetworkList
	if err := r.Client.List(ctx, &networks, client.HasLabels{NetworkRoleLabel}); err != nil {
		return "", fmt.Errorf("failed to list WorkloadNetworks: %w", err)
	}
	for i := range networks.Items {
		objs = append(objs, &networks.Items[i])
	}
	return r.deleteAndWait(ctx, sv, objs, "the load balancer and the networks")
}

// deleteAndWait deletes each object sv controls and says what it waits for
// while any still exists. Their deletion requeues (they are owned).
func (r *Reconciler) deleteAndWait(ctx context.Context, sv *vspherev1.Supervisor, objs []client.Object, what string) (string, error) {
	left := 0
	for _, o := range objs {
		if o.GetName() == "" {
			continue
		}
		err := r.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("failed to get %T %s: %w", o, klog.KObj(o), err)
		}
		if !metav1.IsControlledBy(o, sv) {
			continue
		}
		left++
		if !o.GetDeletionTimestamp().IsZero() {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Deleting", "kind", fmt.Sprintf("%T", o), "name", klog.KObj(o))
		if err := r.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("failed to delete %T %s: %w", o, klog.KObj(o), err)
		}
	}
	if left > 0 {
		return "Waiting for " + what + " to be deleted", nil
	}
	return "", nil
}

// deleteStorageClasses deletes the StorageClasses made for this
// Supervisor and its namespaces (labelled with its name); classes made
// otherwise stay.
func (r *Reconciler) deleteStorageClasses(ctx context.Context, sv *vspherev1.Supervisor) error {
	var list storagev1.StorageClassList
	if err := r.Client.List(ctx, &list, client.MatchingLabels{vspherenamespace.SupervisorLabel: sv.Name}); err != nil {
		return fmt.Errorf("failed to list the StorageClasses of Supervisor %s: %w", sv.Name, err)
	}
	for i := range list.Items {
		sc := &list.Items[i]
		ctrl.LoggerFrom(ctx).Info("Deleting StorageClass", "StorageClass", sc.Name)
		if err := r.Client.Delete(ctx, sc); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to delete StorageClass %s: %w", sc.Name, err)
		}
	}
	return nil
}

// deleteCredentials deletes the Secret holding the Data Plane API's
// credentials if enable wrote it for this Supervisor (it carries its
// label); nothing reads it once the LoadBalancer is gone.
func (r *Reconciler) deleteCredentials(ctx context.Context, sv *vspherev1.Supervisor) error {
	name := sv.Spec.LoadBalancer.CredentialsSecret
	if name == "" {
		return nil
	}
	secret := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: vspherev1.SupervisorSystemNamespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to get the Data Plane API credentials %s: %w", name, err)
	}
	if secret.Labels[vspherev1.SupervisorLabel] != sv.Name {
		return nil
	}
	if err := r.Client.Delete(ctx, secret); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to delete the Data Plane API credentials %s: %w", klog.KObj(secret), err)
	}
	return nil
}
