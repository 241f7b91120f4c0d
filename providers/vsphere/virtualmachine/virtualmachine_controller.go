package virtualmachine

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	"sigs.k8s.io/cluster-api/util/finalizers"
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
// address released. The defaulting webhook sets it at create; the
// reconciler adds it to a VirtualMachine that came without it.
const Finalizer = vmopv1.VirtualMachineFinalizer

// uidIndex indexes VirtualMachines by UID, which is their VM's instance UUID.
const uidIndex = "metadata.uid"

// claimIndex indexes VirtualMachines by the claims their volumes name.
const claimIndex = "spec.volumes.persistentVolumeClaim.claimName"

// taskPollInterval is how soon a reconcile looks again at an in-flight clone
// the watcher has not reported yet.
const taskPollInterval = 2 * time.Second

// cloningPollInterval is how soon a reconcile looks again at a VM that
// exists but whose clone task (and power-on) vCenter has not finished.
const cloningPollInterval = taskPollInterval / 10

// watchSyncInterval is how soon a reconcile that came before the VM watch
// held every VM tries again.
const watchSyncInterval = 200 * time.Millisecond

// doubtTheWatchAfter is how long a VM may wait for its power state or its
// address, as the watch reports them, before the VM is read from vCenter
// (RefreshVM) on each look: a watch can miss an update (vcsim loses some
// that race a VM's addition to the state poll), and a VM waiting on one
// would otherwise wait for good. While it waits, it is looked at again
// after as long as it has waited, from this up to recheckAtMost.
const (
	doubtTheWatchAfter = 10 * time.Second
	recheckAtMost      = 5 * time.Minute
)

// inputRetryInterval is how soon a VM with bad input is looked at again, in
// case what it refers to appears (no vCenter call is made meanwhile).
const inputRetryInterval = 30 * time.Second

// conflictRetryInterval is how soon a reconcile whose final write
// conflicted looks again.
const conflictRetryInterval = 100 * time.Millisecond

// Event reasons other than condition reasons (which events reuse).
const (
	eventReasonDeleteFailed = "DeleteFailed"
	eventReasonAttachFailed = "AttachFailed"
	eventReasonAttached     = "Attached"
)

// Reconciler reconciles VirtualMachines against vCenter.
type Reconciler struct {
	Client    client.Client
	APIReader client.Reader
	Recorder  events.EventRecorder
	Inventory *inventory.Inventory
	IPAM      *ipam.Allocator
	// DefaultNetwork is the WorkloadNetwork of VMs that name none.
	DefaultNetwork string

	// vcenter is where VMs are made; SetupWithManager puts the Inventory's
	// vCenter behind it.
	vcenter VCenter
	watcher *vmwatch.Watcher
	changes chan event.TypedGenericEvent[*vmopv1.VirtualMachine]
	id      string
	// managed counts the VirtualMachines with the finalizer, for /metrics.
	managed managedSet
}

// identity names this reconciler in clone claims.
func (r *Reconciler) identity() string { return r.id }

// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachines,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachines/status;virtualmachines/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachineclasses;virtualmachineimages;clustervirtualmachineimages,verbs=get;list;watch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=workloadnetworks,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=vsphere.opensupervisor.io,resources=ipaddressallocations,verbs=get;list;watch;create;delete;deletecollection
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get
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
	r.vcenter = &govmomiVCenter{inv: r.Inventory, watcher: r.watcher}
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
		if c != nil && c.Reason == vmopv1.VirtualMachineNetworkNoFreeIPReason {
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
		if apierrors.IsNotFound(err) {
			r.managed.set(req.NamespacedName, false)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	defer func() { r.managed.set(req.NamespacedName, controllerutil.ContainsFinalizer(vm, Finalizer)) }()
	log := ctrl.LoggerFrom(ctx).WithValues("VirtualMachine", klog.KObj(vm))
	ctx = ctrl.LoggerInto(ctx, log)

	// Until the watch holds every VM, "not found" could mean "not seen yet",
	// and a VM would be cloned twice.
	select {
	case <-r.vcenter.Synced():
	default:
		log.V(4).Info("Waiting for the VM watch to sync")
		return ctrl.Result{RequeueAfter: watchSyncInterval}, nil
	}

	if added, err := finalizers.EnsureFinalizer(ctx, r.Client, vm, Finalizer); err != nil || added {
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to add the finalizer to VirtualMachine %s: %w", klog.KObj(vm), err)
		}
		return ctrl.Result{}, nil // the update wakes us again
	}

	orig := vm.DeepCopy()
	defer func() {
		err := r.patchVirtualMachine(ctx, orig, vm, reterr == nil)
		switch {
		case apierrors.IsConflict(err) && reterr == nil:
			// Someone wrote the object since it was read (another
			// reconcile's claim, a spec change): look again at what is
			// there now rather than report an error.
			res = ctrl.Result{RequeueAfter: conflictRetryInterval}
		case err != nil:
			reterr = kerrors.NewAggregate([]error{reterr, err})
		}
	}()

	if !vm.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, vm)
	}
	res, err := r.reconcileNormal(ctx, vm)
	var bad *inputError
	if errors.As(err, &bad) {
		// Not the supervisor's failure but the user's input: say so in
		// conditions and an event, and look again later rather than back
		// off as from an error; nothing is made in vCenter meanwhile.
		r.reportInputError(vm, bad)
		return ctrl.Result{RequeueAfter: inputRetryInterval}, nil
	}
	return res, err
}

// patchVirtualMachine writes what the reconcile changed: finalizers as one
// merge patch, then the whole status, conditions included, as one merge
// patch that carries the resourceVersion read. One status write keeps the
// VM service's API traffic at one request per change (Cluster API's patch
// helper writes conditions and the rest of status apart, with a read
// between, which made 100 VMs half again as slow to provision), and a
// reader who sees Ready sees the address written with it. Another
// writer's change is never overwritten: the write conflicts, the reconcile
// fails and runs again on what is there now. observedGeneration moves only
// when the reconcile succeeded.
func (r *Reconciler) patchVirtualMachine(ctx context.Context, orig, vm *vmopv1.VirtualMachine, succeeded bool) error {
	if succeeded {
		vm.Status.ObservedGeneration = vm.Generation
	}
	if !equality.Semantic.DeepEqual(orig.Finalizers, vm.Finalizers) {
		status := vm.Status
		base := orig.DeepCopy()
		base.ResourceVersion = vm.ResourceVersion
		if err := r.Client.Patch(ctx, vm, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsNotFound(err) {
				return nil // the last finalizer went and the object with it
			}
			return fmt.Errorf("failed to patch VirtualMachine %s: %w", klog.KObj(vm), err)
		}
		vm.Status = status
		if !vm.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(vm, Finalizer) {
			return nil // done with it; the object may be gone already
		}
	}
	if equality.Semantic.DeepEqual(orig.Status, vm.Status) {
		return nil
	}
	base := vm.DeepCopy()
	base.Status = orig.Status
	if err := r.Client.Status().Patch(ctx, vm, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("failed to patch the status of VirtualMachine %s: %w", klog.KObj(vm), err)
	}
	return nil
}

// reconcileNormal creates the VM, or waits for its clone, or brings the VM
// in line with the spec.
func (r *Reconciler) reconcileNormal(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	found, ok, err := r.vcenter.FindVM(ctx, string(vm.UID))
	if err != nil {
		return ctrl.Result{}, err
	}
	if !ok {
		if vm.Status.TaskRef != "" {
			return r.reconcileInFlightClone(ctx, vm)
		}
		return r.createVM(ctx, vm)
	}
	cloning, err := r.stillCloning(ctx, vm, &found)
	if err != nil {
		return ctrl.Result{}, err
	}
	if cloning {
		// The clone's VM shows up before the clone task (and its power-on)
		// ends; act on it only once vCenter is done with it, and until
		// then report it without calling it Ready.
		if err := r.updateStatus(ctx, vm, found); err != nil {
			return ctrl.Result{}, err
		}
		setCreatedCondition(vm, true, nil)
		setReadyCondition(vm, true)
		return ctrl.Result{RequeueAfter: cloningPollInterval}, nil
	}
	if waited, waiting := waitingOnTheWatch(vm); waiting && waited >= doubtTheWatchAfter {
		refreshed, ok, err := r.vcenter.RefreshVM(ctx, found)
		if err != nil {
			return ctrl.Result{}, err
		}
		if ok {
			found = refreshed
		}
	}
	res, err := r.reconcileExisting(ctx, vm, found)
	if waited, waiting := waitingOnTheWatch(vm); err == nil && waiting && res.RequeueAfter == 0 {
		res.RequeueAfter = min(max(waited, doubtTheWatchAfter), recheckAtMost)
	}
	return res, err
}

// waitingOnTheWatch says whether vm waits for a power state or an address
// that the watch reports, and since when it has not been Ready.
func waitingOnTheWatch(vm *vmopv1.VirtualMachine) (time.Duration, bool) {
	c := conditions.Get(vm, vmopv1.VirtualMachineConditionReady)
	if c == nil || c.Status != metav1.ConditionFalse ||
		(c.Reason != vmopv1.VirtualMachinePowerStateChangingReason && c.Reason != vmopv1.VirtualMachineWaitingForIPReason) {
		return 0, false
	}
	return time.Since(c.LastTransitionTime.Time), true
}

// reconcileDelete destroys the VM and releases its addresses; the finalizer
// goes last, once nothing is left in vCenter.
func (r *Reconciler) reconcileDelete(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	var found vmwatch.VM
	var ok bool
	if ref := vm.Status.TaskRef; ref != "" {
		done, taskErr, err := r.taskDone(ctx, ref)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !done {
			// A clone cannot be stopped; its VM is deleted once it exists.
			log.Info("Waiting for the clone task to end before deleting", "task", ref)
			return ctrl.Result{RequeueAfter: taskPollInterval}, nil
		}
		if _, claim := claimTime(ref); !claim && taskErr == nil {
			// The watch may not have reported the clone's VM yet: take
			// it from the task, or it would be left behind.
			if found, ok, err = r.vcenter.ClonedVM(ctx, ref, string(vm.UID)); err != nil {
				return ctrl.Result{}, err
			}
		}
		vm.Status.TaskRef = ""
	}
	if !ok {
		var err error
		if found, ok, err = r.vcenter.FindVM(ctx, string(vm.UID)); err != nil {
			return ctrl.Result{}, err
		}
	}
	if ok {
		log.Info("Deleting VM in vCenter", "vm", found.Ref.Value)
		if err := r.vcenter.Destroy(ctx, found); err != nil {
			r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, eventReasonDeleteFailed, "Delete", "Failed to delete the VM in vCenter: %v", err)
			return ctrl.Result{}, err
		}
	}
	if err := r.IPAM.Release(ctx, string(vm.UID)); err != nil {
		return ctrl.Result{}, err
	}
	controllerutil.RemoveFinalizer(vm, Finalizer)
	return ctrl.Result{}, nil
}

// reportInputError reports bad input in conditions and as a Warning event.
func (r *Reconciler) reportInputError(vm *vmopv1.VirtualMachine, bad *inputError) {
	setInputErrorConditions(vm, bad)
	action := "Create"
	if vm.Status.UniqueID != "" {
		action = "Update" // the VM exists: a change to it (a new volume) is bad
	}
	r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, bad.reason, action, "%s", bad.message)
}
