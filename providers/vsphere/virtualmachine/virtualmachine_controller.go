package virtualmachine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apitypes "k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/ipam"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// Finalizer keeps a VirtualMachine until its VM is gone from vCenter and its
// address released.
const Finalizer = "vmoperator.vmware.com/virtual-machine"

// uidIndex indexes VirtualMachines by UID, which is their VM's instance UUID.
const uidIndex = "metadata.uid"

// claimIndex indexes VirtualMachines by the claims their volumes name.
const claimIndex = "spec.volumes.persistentVolumeClaim.claimName"

// taskPollInterval is how soon a reconcile looks again at an in-flight clone
// the watcher has not reported yet.
const taskPollInterval = 2 * time.Second

// inputRetryInterval is how soon a VM with bad input is looked at again, in
// case what it refers to appears (no vCenter call is made meanwhile).
const inputRetryInterval = 30 * time.Second

// Reconciler reconciles VirtualMachines against vCenter.
type Reconciler struct {
	Client    client.Client
	APIReader client.Reader
	Recorder  events.EventRecorder
	Inventory *inventory.Inventory
	IPAM      *ipam.Allocator
	// DefaultNetwork is the WorkloadNetwork of VMs that name none.
	DefaultNetwork string

	watcher *vmwatch.Watcher
	changes chan event.TypedGenericEvent[*vmopv1.VirtualMachine]
	id      string

	mu        sync.Mutex
	dsNames   map[types.ManagedObjectReference]string                   // datastore -> name
	templates map[types.ManagedObjectReference]object.VirtualDeviceList // image VM -> its devices
}

// identity names this reconciler in clone claims.
func (r *Reconciler) identity() string { return r.id }

// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachines,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachines/status;virtualmachines/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses;virtualmachineimages;clustervirtualmachineimages,verbs=get;list;watch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=workloadnetworks,verbs=get;list;watch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=ipaddressallocations,verbs=get;list;watch;create;delete;deletecollection
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager starts the shared VM watch and registers the controller.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, options controller.Options) error {
	if err := r.Inventory.Init(ctx); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &vmopv1.VirtualMachine{}, uidIndex, func(o client.Object) []string {
		return []string{string(o.GetUID())}
	}); err != nil {
		return fmt.Errorf("failed to index VirtualMachines by UID: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &vmopv1.VirtualMachine{}, claimIndex, func(o client.Object) []string {
		var claims []string
		for _, v := range o.(*vmopv1.VirtualMachine).Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				claims = append(claims, v.PersistentVolumeClaim.ClaimName)
			}
		}
		return claims
	}); err != nil {
		return fmt.Errorf("failed to index VirtualMachines by claim: %w", err)
	}
	r.changes = make(chan event.TypedGenericEvent[*vmopv1.VirtualMachine], 1024)
	r.id = string(uuid.NewUUID())
	r.watcher = vmwatch.New(r.Inventory.Session.Client, r.Inventory.Root.Reference(), func(uuid string) {
		vm := &vmopv1.VirtualMachine{}
		vm.UID = apitypes.UID(uuid)
		r.changes <- event.TypedGenericEvent[*vmopv1.VirtualMachine]{Object: vm}
	})
	if err := mgr.Add(r.watcher); err != nil {
		return err
	}
	byUID := handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, o *vmopv1.VirtualMachine) []reconcile.Request {
		var list vmopv1.VirtualMachineList
		if err := r.Client.List(ctx, &list, client.MatchingFields{uidIndex: string(o.UID)}); err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for i := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
		return reqs
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&vmopv1.VirtualMachine{}).
		WatchesRawSource(source.TypedChannel(r.changes, byUID)).
		Watches(&vspherev1.IPAddressAllocation{},
			handler.EnqueueRequestsFromMapFunc(r.vmsWaitingForAddress),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc:  func(event.CreateEvent) bool { return false },
				UpdateFunc:  func(event.UpdateEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false },
			})).
		Watches(&corev1.PersistentVolumeClaim{}, handler.EnqueueRequestsFromMapFunc(r.vmsUsingClaim)).
		WithOptions(options).
		Named("virtualmachine").
		Complete(r)
}

// vmsWaitingForAddress maps a released address to the VMs of its network
// that wait for one, so they get it at once rather than on their next retry.
func (r *Reconciler) vmsWaitingForAddress(ctx context.Context, o client.Object) []reconcile.Request {
	var list vmopv1.VirtualMachineList
	if err := r.Client.List(ctx, &list); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		c := conditions.Get(&list.Items[i], vmopv1.VirtualMachineConditionNetworkReady)
		if c != nil && c.Reason == reasonNoFreeIP {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// vmsUsingClaim maps a claim to the VMs whose volumes name it, so a VM
// waiting for its claim, or for a disk on it, goes on at once.
func (r *Reconciler) vmsUsingClaim(ctx context.Context, o client.Object) []reconcile.Request {
	var list vmopv1.VirtualMachineList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{claimIndex: o.GetName()}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// Watcher returns the shared VM watch (for benchmarks and tests).
func (r *Reconciler) Watcher() *vmwatch.Watcher { return r.watcher }

// Reconcile brings one VirtualMachine's VM in line with its spec.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, reterr error) {
	vm := &vmopv1.VirtualMachine{}
	if err := r.Client.Get(ctx, req.NamespacedName, vm); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("VirtualMachine", klog.KObj(vm))
	ctx = ctrl.LoggerInto(ctx, log)

	select {
	case <-r.watcher.Synced():
	default:
		log.V(4).Info("Waiting for the VM watch to sync")
		return ctrl.Result{RequeueAfter: 200 * time.Millisecond}, nil
	}

	if vm.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(vm, Finalizer) {
		controllerutil.AddFinalizer(vm, Finalizer)
		return ctrl.Result{}, r.Client.Update(ctx, vm)
	}

	before := vm.DeepCopy()
	defer func() {
		res, reterr = r.writeBack(ctx, before, vm, res, reterr)
	}()

	if !vm.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, vm)
	}
	res, err := r.reconcileNormal(ctx, vm)
	var bad *inputError
	if errors.As(err, &bad) {
		r.setInputError(vm, bad)
		return ctrl.Result{RequeueAfter: inputRetryInterval}, nil
	}
	return res, err
}

func (r *Reconciler) reconcileNormal(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	found, ok, err := r.findVM(ctx, vm)
	if err != nil {
		return ctrl.Result{}, err
	}
	if _, claim := claimTime(vm.Status.TaskRef); ok && claim {
		vm.Status.TaskRef = "" // the claimed clone exists: the claim is over
	}
	if ok && vm.Status.TaskRef != "" {
		// The clone's VM shows up before the clone task (and its power-on)
		// ends; act on it only once vCenter is done with it.
		done, _, err := r.taskDone(ctx, vm.Status.TaskRef)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !done {
			err := r.updateStatus(ctx, vm, found)
			// Not Ready before the clone is done and the VM reconciled once
			// (reservations, power state).
			msg := "vCenter is still cloning the VM"
			conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionCreated, Status: metav1.ConditionFalse, Reason: "Cloning", Message: msg})
			conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse, Reason: "Cloning", Message: msg})
			return ctrl.Result{RequeueAfter: taskPollInterval / 10}, err
		}
		vm.Status.TaskRef = ""
	}
	if ok {
		return r.reconcileExisting(ctx, vm, found)
	}
	if vm.Status.TaskRef != "" {
		return r.reconcileInFlightClone(ctx, vm)
	}
	return r.createVM(ctx, vm)
}

func (r *Reconciler) reconcileDelete(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if vm.Status.TaskRef != "" {
		if done, _, err := r.taskDone(ctx, vm.Status.TaskRef); err != nil || !done {
			log.Info("Waiting for the clone task to end before deleting", "task", vm.Status.TaskRef)
			return ctrl.Result{RequeueAfter: taskPollInterval}, err
		}
		vm.Status.TaskRef = ""
	}
	found, ok, err := r.findVM(ctx, vm)
	if err != nil {
		return ctrl.Result{}, err
	}
	if ok {
		log.Info("Deleting VM in vCenter", "vm", found.Ref.Value)
		if err := r.destroy(ctx, found); err != nil {
			r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, "DeleteFailed", "Delete", "Failed to delete the VM in vCenter: %v", err)
			return ctrl.Result{}, err
		}
		r.watcher.Forget(found.InstanceUUID)
	}
	if err := r.IPAM.Release(ctx, string(vm.UID)); err != nil {
		return ctrl.Result{}, err
	}
	controllerutil.RemoveFinalizer(vm, Finalizer)
	return ctrl.Result{}, nil
}

// writeBack writes status, then finalizers, with optimistic concurrency: a
// write based on a stale cached copy fails with a conflict and the object is
// reconciled again from fresh state, so no reconcile overwrites a newer one.
func (r *Reconciler) writeBack(ctx context.Context, before, vm *vmopv1.VirtualMachine, res ctrl.Result, reterr error) (ctrl.Result, error) {
	if reterr == nil {
		vm.Status.ObservedGeneration = vm.Generation
	}
	var err error
	if !equality.Semantic.DeepEqual(before.Status, vm.Status) {
		err = r.Client.Status().Update(ctx, vm)
	}
	if err == nil && !equality.Semantic.DeepEqual(before.Finalizers, vm.Finalizers) {
		err = r.Client.Update(ctx, vm)
	}
	switch {
	case err == nil || apierrors.IsNotFound(err):
		return res, reterr
	case apierrors.IsConflict(err):
		ctrl.LoggerFrom(ctx).V(4).Info("Object changed meanwhile, reconciling again")
		return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, reterr
	}
	return res, kerrors.NewAggregate([]error{reterr, err})
}

func (r *Reconciler) setInputError(vm *vmopv1.VirtualMachine, bad *inputError) {
	conditions.Set(vm, metav1.Condition{Type: bad.condition, Status: metav1.ConditionFalse, Reason: bad.reason, Message: bad.message})
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse, Reason: bad.reason, Message: bad.message})
	action := "Create"
	if vm.Status.UniqueID != "" {
		action = "Update" // the VM exists: a change to it (a new volume) is bad
	}
	r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, bad.reason, action, "%s", bad.message)
}

func setTrue(vm *vmopv1.VirtualMachine, condition string) {
	conditions.Set(vm, metav1.Condition{Type: condition, Status: metav1.ConditionTrue, Reason: "Ready"})
}
