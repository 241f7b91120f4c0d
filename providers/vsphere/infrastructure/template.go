package infrastructure

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/klog/v2"
	"sigs.k8s.io/cluster-api/util/patch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// MachineTemplateReconciler sets a VSphereMachineTemplate's
// status.capacity (cpu, memory) from its VirtualMachineClass, as CAPV does,
// so that Cluster API's autoscaler can scale a MachineDeployment from zero.
type MachineTemplateReconciler struct {
	Client client.Client
}

// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vspheremachinetemplates;vspheremachinetemplates/status,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses,verbs=get;list;watch

// SetupWithManager watches templates and the VM classes they name.
func (r *MachineTemplateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&vmwarev1.VSphereMachineTemplate{}).
		Watches(&vmopv1.VirtualMachineClass{}, handler.EnqueueRequestsFromMapFunc(r.templatesOfClass)).
		Complete(r)
}

// templatesOfClass maps a VM class to the templates in its namespace that name it.
func (r *MachineTemplateReconciler) templatesOfClass(ctx context.Context, o client.Object) []reconcile.Request {
	list := &vmwarev1.VSphereMachineTemplateList{}
	if err := r.Client.List(ctx, list, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the VSphereMachineTemplates of a VirtualMachineClass", "VirtualMachineClass", klog.KObj(o))
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if list.Items[i].Spec.Template.Spec.ClassName == o.GetName() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// Reconcile sets the template's capacity from its class; a class that does
// not exist (yet) leaves it unset, and its creation brings us back.
func (r *MachineTemplateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	t := &vmwarev1.VSphereMachineTemplate{}
	if err := r.Client.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	name := t.Spec.Template.Spec.ClassName
	if name == "" || !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	class := &vmopv1.VirtualMachineClass{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: name}, class); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get VirtualMachineClass %s of VSphereMachineTemplate %s: %w", name, klog.KObj(t), err)
	}
	helper, err := patch.NewHelper(t, r.Client)
	if err != nil {
		return ctrl.Result{}, err
	}
	defer func() {
		if err := helper.Patch(ctx, t); err != nil && !apierrors.IsNotFound(err) {
			reterr = errors.Join(reterr, fmt.Errorf("failed to patch VSphereMachineTemplate %s: %w", klog.KObj(t), err))
		}
	}()
	if t.Status.Capacity == nil {
		t.Status.Capacity = corev1.ResourceList{}
	}
	if cpus := class.Spec.Hardware.Cpus; cpus > 0 {
		t.Status.Capacity[vmwarev1.VSphereResourceCPU] = *resource.NewQuantity(cpus, resource.DecimalSI)
	}
	if mem := class.Spec.Hardware.Memory; !mem.IsZero() {
		t.Status.Capacity[vmwarev1.VSphereResourceMemory] = mem
	}
	return ctrl.Result{}, nil
}
