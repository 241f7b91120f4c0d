package virtualmachine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/ipam"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// findVM finds the object's VM by instance UUID: in the watch first (free),
// then by asking vCenter, which also finds a VM outside our folder. With
// vCenter's answer authoritative, a VM is never cloned while one exists.
func (r *Reconciler) findVM(ctx context.Context, vm *vmopv1.VirtualMachine) (vmwatch.VM, bool, error) {
	uuid := string(vm.UID)
	if found, ok := r.watcher.Get(uuid); ok {
		return found, true, nil
	}
	c := r.Inventory.Session.Client
	refs, err := object.NewSearchIndex(c).FindAllByUuid(ctx, r.Inventory.Datacenter, uuid, true, ptr.To(true))
	if err != nil {
		return vmwatch.VM{}, false, fmt.Errorf("failed to search VMs by instance UUID %s: %w", uuid, err)
	}
	if len(refs) == 0 {
		return vmwatch.VM{}, false, nil
	}
	if len(refs) > 1 {
		ctrl.LoggerFrom(ctx).Error(nil, "More than one VM has this instance UUID; using the first", "count", len(refs))
	}
	found, err := vmwatch.Read(ctx, c, refs[0].Reference())
	return found, err == nil, client404(err)
}

func client404(err error) error {
	if err != nil && fault.Is(err, &types.ManagedObjectNotFound{}) {
		return nil
	}
	return err
}

// createVM resolves the inputs, takes an address and starts the clone.
// Nothing is created in vCenter until every input checks out.
func (r *Reconciler) createVM(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	plan := &createPlan{}
	var err error
	if plan.class, err = r.resolveClass(ctx, vm); err != nil {
		return ctrl.Result{}, err
	}
	setTrue(vm, vmopv1.VirtualMachineConditionClassReady)
	imageRef, imageStatus, err := r.resolveImage(ctx, vm)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan.imageRef = imageRef
	if plan.datastore, err = r.resolveDatastore(ctx, vm); err != nil {
		return ctrl.Result{}, err
	}
	if plan.disks, err = r.resolveVolumes(ctx, vm, plan.datastore); err != nil {
		return ctrl.Result{}, err
	}
	setTrue(vm, vmopv1.VirtualMachineConditionStorageReady)
	if plan.network, plan.backing, err = r.resolveNetwork(ctx, vm); err != nil {
		return ctrl.Result{}, err
	}
	if plan.userdata, err = r.resolveUserData(ctx, vm); err != nil {
		return ctrl.Result{}, err
	}
	setTrue(vm, vmopv1.VirtualMachineConditionBootstrapReady)
	if plan.image, err = r.resolveImageContent(ctx, imageStatus, plan, vm.Spec.ImageName); err != nil {
		return ctrl.Result{}, err
	}
	setTrue(vm, vmopv1.VirtualMachineConditionImageReady)
	if len(plan.disks) > 0 {
		devices, err := r.templateDevices(ctx, plan.image.Template)
		if err != nil {
			return ctrl.Result{}, err
		}
		if plan.diskChanges, plan.diskConfig, err = addDisks(devices, plan.disks); err != nil {
			return ctrl.Result{}, err
		}
	}

	var nw *guestNetwork
	if plan.network != nil {
		addr, err := r.IPAM.Ensure(ctx, plan.network, ipam.Owner{Kind: "VirtualMachine", Namespace: vm.Namespace, Name: vm.Name, UID: string(vm.UID)})
		if errors.Is(err, ipam.ErrExhausted) {
			return ctrl.Result{}, badInput(vmopv1.VirtualMachineConditionNetworkReady, reasonNoFreeIP,
				"spec.network: every address of WorkloadNetwork %q is in use", plan.network.Name)
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		nw = guestNetworkFor(vm, plan.network, addr)
	}
	setTrue(vm, vmopv1.VirtualMachineConditionNetworkReady)

	hostname := vm.Name
	if vm.Spec.Network != nil && vm.Spec.Network.HostName != "" {
		hostname = vm.Spec.Network.HostName
	}
	metadata, err := renderMetadata(string(vm.UID), hostname, nw)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to render guest metadata: %w", err)
	}
	spec, err := r.cloneSpec(ctx, vm, plan, guestinfo(metadata, plan.userdata))
	if err != nil {
		return ctrl.Result{}, err
	}
	folder, err := r.Inventory.NamespaceFolder(ctx, vm.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}

	// Claim the clone through the API server before asking vCenter: the
	// status write carries the resourceVersion we read, so of two reconciles
	// racing (two managers, no leader election) exactly one gets it. The
	// folder's name uniqueness would stop the loser in a real vCenter, but
	// not in every simulator, and a claim costs vCenter nothing.
	vm.Status.TaskRef = newClaim(r.identity())
	if err := r.Client.Status().Update(ctx, vm); err != nil {
		if apierrors.IsConflict(err) {
			log.V(4).Info("Another reconcile is creating this VM")
			return ctrl.Result{RequeueAfter: taskPollInterval}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to claim the clone: %w", err)
	}

	log.Info("Cloning VM", "image", vm.Spec.ImageName, "class", vm.Spec.ClassName, "ip", addrOf(nw))
	template := object.NewVirtualMachine(r.Inventory.Session.Client, plan.image.Template)
	task, err := template.Clone(ctx, folder, vm.Name, *spec)
	if err != nil {
		conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionCreated, Status: metav1.ConditionFalse, Reason: "CloneFailed", Message: err.Error()})
		r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, "CloneFailed", "Create", "vCenter refused the clone: %v", err)
		return ctrl.Result{}, fmt.Errorf("failed to clone VM: %w", err)
	}
	// The task is recorded before anything else happens, so the next
	// reconcile (here or after a restart) waits for it instead of cloning.
	vm.Status.TaskRef = task.Reference().Value
	if nw != nil {
		// The clone is ours: an address a racing reconcile allocated for
		// this VM will not be used. After the clone, not before it: a
		// restart in between finds the VM by UUID, while one between the
		// claim and the clone waits out the claim. Not fatal: the VM's
		// deletion frees every address of its owner anyway.
		if err := r.IPAM.ReleaseOthers(ctx, plan.network.Name, string(vm.UID), nw.Address.Addr()); err != nil {
			log.Error(err, "Could not release the addresses a racing reconcile allocated")
		}
	}
	vm.Status.Class = &vmopv1.LocalObjectRef{APIVersion: vmopv1.GroupVersion.String(), Kind: "VirtualMachineClass", Name: plan.class.Name}
	vm.Status.Image = &plan.imageRef
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionCreated, Status: metav1.ConditionFalse, Reason: "Cloning", Message: "vCenter is cloning the VM"})
	r.Recorder.Eventf(vm, nil, corev1.EventTypeNormal, "Cloning", "Create", "Cloning VM from image %s", vm.Spec.ImageName)
	return ctrl.Result{RequeueAfter: taskPollInterval}, nil
}

func addrOf(nw *guestNetwork) string {
	if nw == nil {
		return ""
	}
	return nw.Address.Addr().String()
}

// cloneSpec sizes, places and networks the clone.
func (r *Reconciler) cloneSpec(ctx context.Context, vm *vmopv1.VirtualMachine, plan *createPlan, extra []types.BaseOptionValue) (*types.VirtualMachineCloneSpec, error) {
	cpuRes, memRes, err := r.reservations(ctx, plan.class)
	if err != nil {
		return nil, err
	}
	memMB := plan.class.Spec.Hardware.Memory.Value() / (1024 * 1024)
	pool := r.Inventory.Pool.Reference()
	spec := &types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Pool: &pool, Datastore: &plan.datastore},
		Config: &types.VirtualMachineConfigSpec{
			InstanceUuid:      string(vm.UID),
			NumCPUs:           int32(plan.class.Spec.Hardware.Cpus),
			MemoryMB:          memMB,
			CpuAllocation:     &types.ResourceAllocationInfo{Reservation: ptr.To(cpuRes)},
			MemoryAllocation:  &types.ResourceAllocationInfo{Reservation: ptr.To(memRes)},
			ExtraConfig:       slices.Concat(extra, plan.diskConfig),
			DeviceChange:      plan.diskChanges,
			VAppConfigRemoved: ptr.To(true), // cloud-init must prefer guestinfo over OVF properties
		},
		PowerOn: desiredPowerState(vm) == vmopv1.VirtualMachinePowerStateOn,
	}
	if plan.network != nil && plan.image.NIC != nil {
		nic := plan.image.NIC
		nic.GetVirtualDevice().Backing = plan.backing
		spec.Location.DeviceChange = []types.BaseVirtualDeviceConfigSpec{&types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationEdit,
			Device:    nic,
		}}
	}
	return spec, nil
}

// reservations returns the CPU (MHz) and memory (MiB) the class reserves:
// requests are counted in vCPUs at the slowest host's clock, as vm-operator does.
func (r *Reconciler) reservations(ctx context.Context, class *vmopv1.VirtualMachineClass) (cpuMhz, memMB int64, err error) {
	req := class.Spec.Policies.Resources.Requests
	if !req.Cpu.IsZero() {
		mhz, err := r.Inventory.MinHostCPUMhz(ctx)
		if err != nil {
			return 0, 0, err
		}
		cpuMhz = req.Cpu.MilliValue() * mhz / 1000
	}
	if !req.Memory.IsZero() {
		memMB = req.Memory.Value() / (1024 * 1024)
	}
	return cpuMhz, memMB, nil
}

// reconcileInFlightClone looks at a clone the watch has not reported yet.
func (r *Reconciler) reconcileInFlightClone(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	done, taskErr, err := r.taskDone(ctx, vm.Status.TaskRef)
	if err != nil || !done {
		return ctrl.Result{RequeueAfter: taskPollInterval}, err
	}
	vm.Status.TaskRef = ""
	if taskErr == nil {
		// Finished; the next look (the watch's event, or this requeue) finds it.
		return ctrl.Result{RequeueAfter: taskPollInterval}, nil
	}
	if fault.Is(taskErr, &types.DuplicateName{}) {
		// Not ours (findVM found nothing by UUID): someone else's VM holds the name.
		msg := fmt.Sprintf("metadata.name: a VM named %q that this object does not own already exists in vCenter folder %s", vm.Name, vm.Namespace)
		conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionCreated, Status: metav1.ConditionFalse, Reason: "DuplicateName", Message: msg})
		r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, "DuplicateName", "Create", "%s", msg)
		return ctrl.Result{RequeueAfter: inputRetryInterval}, nil
	}
	conditions.Set(vm, metav1.Condition{Type: vmopv1.VirtualMachineConditionCreated, Status: metav1.ConditionFalse, Reason: "CloneFailed", Message: taskErr.Error()})
	r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, "CloneFailed", "Create", "vCenter failed to clone the VM: %v", taskErr)
	return ctrl.Result{}, fmt.Errorf("clone task %s failed: %w", vm.Status.TaskRef, taskErr)
}

// taskDone reads a task's state once. A task vCenter no longer knows is done.
func (r *Reconciler) taskDone(ctx context.Context, ref string) (done bool, taskErr error, err error) {
	if at, ok := claimTime(ref); ok {
		// A claim not followed by a task within claimTTL belonged to a
		// reconcile that died before cloning.
		return time.Since(at) > claimTTL, nil, nil
	}
	var task mo.Task
	moref := types.ManagedObjectReference{Type: "Task", Value: ref}
	if err := property.DefaultCollector(r.Inventory.Session.Client).RetrieveOne(ctx, moref, []string{"info"}, &task); err != nil {
		if fault.Is(err, &types.ManagedObjectNotFound{}) {
			return true, nil, nil
		}
		return false, nil, fmt.Errorf("failed to read task %s: %w", ref, err)
	}
	switch task.Info.State {
	case types.TaskInfoStateSuccess:
		return true, nil, nil
	case types.TaskInfoStateError:
		if task.Info.Error != nil {
			return true, errors.New(task.Info.Error.LocalizedMessage), nil
		}
		return true, errors.New("task failed"), nil
	}
	return false, nil, nil
}

// reconcileExisting fixes reservations, volumes and power state and
// reports status.
func (r *Reconciler) reconcileExisting(ctx context.Context, vm *vmopv1.VirtualMachine, found vmwatch.VM) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	vmobj := object.NewVirtualMachine(r.Inventory.Session.Client, found.Ref)

	if err := r.ensureReservations(ctx, vm, vmobj, found); err != nil {
		return ctrl.Result{}, err
	}
	// Disks first, so that a VM about to power on boots with them.
	volErr := r.reconcileVolumes(ctx, vm, vmobj, found)
	var bad *inputError
	if volErr != nil && !errors.As(volErr, &bad) {
		return ctrl.Result{}, volErr
	}
	want := desiredPowerState(vm)
	if got := powerState(found.PowerState); got != want {
		log.Info("Changing power state", "from", got, "to", want)
		var task *object.Task
		var err error
		if want == vmopv1.VirtualMachinePowerStateOn {
			task, err = vmobj.PowerOn(ctx)
		} else {
			task, err = vmobj.PowerOff(ctx)
		}
		if err == nil {
			err = inventory.WaitTask(ctx, task)
		}
		if err != nil && !fault.Is(err, &types.InvalidPowerState{}) {
			return ctrl.Result{}, fmt.Errorf("failed to power %s VM %s: %w", want, found.Ref.Value, err)
		}
		// The watch reports the new state and wakes this object again.
	}
	if err := r.updateStatus(ctx, vm, found); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, volErr
}

// ensureReservations reapplies the class's reservations if vCenter did not
// take them at clone time.
func (r *Reconciler) ensureReservations(ctx context.Context, vm *vmopv1.VirtualMachine, vmobj *object.VirtualMachine, found vmwatch.VM) error {
	if vm.Status.Class == nil {
		return nil // adopted VM: leave its reservations as they are
	}
	class, err := r.resolveClass(ctx, vm)
	if err != nil {
		return nil //nolint:nilerr // the class may be gone; the VM keeps what it has
	}
	cpu, mem, err := r.reservations(ctx, class)
	if err != nil {
		return err
	}
	if found.CPUReservation == cpu && found.MemReservation == mem {
		return nil
	}
	ctrl.LoggerFrom(ctx).Info("Setting reservations", "cpuMhz", cpu, "memoryMiB", mem)
	task, err := vmobj.Reconfigure(ctx, types.VirtualMachineConfigSpec{
		CpuAllocation:    &types.ResourceAllocationInfo{Reservation: ptr.To(cpu), Limit: ptr.To[int64](-1), Shares: &types.SharesInfo{Level: types.SharesLevelNormal}},
		MemoryAllocation: &types.ResourceAllocationInfo{Reservation: ptr.To(mem), Limit: ptr.To[int64](-1), Shares: &types.SharesInfo{Level: types.SharesLevelNormal}},
	})
	if err == nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil {
		return fmt.Errorf("failed to set reservations on VM %s: %w", found.Ref.Value, err)
	}
	r.watcher.Observe(found.InstanceUUID, func(m *mo.VirtualMachine) {
		m.Config.CpuAllocation = &types.ResourceAllocationInfo{Reservation: ptr.To(cpu)}
		m.Config.MemoryAllocation = &types.ResourceAllocationInfo{Reservation: ptr.To(mem)}
	})
	return nil
}

// destroy powers the VM off and destroys it; a VM already gone is fine.
func (r *Reconciler) destroy(ctx context.Context, found vmwatch.VM) error {
	vmobj := object.NewVirtualMachine(r.Inventory.Session.Client, found.Ref)
	if found.PowerState == types.VirtualMachinePowerStatePoweredOn {
		task, err := vmobj.PowerOff(ctx)
		if err == nil {
			err = inventory.WaitTask(ctx, task)
		}
		if err != nil && !fault.Is(err, &types.InvalidPowerState{}) && !fault.Is(err, &types.ManagedObjectNotFound{}) {
			return fmt.Errorf("failed to power off VM %s: %w", found.Ref.Value, err)
		}
	}
	task, err := vmobj.Destroy(ctx)
	if err == nil {
		err = inventory.WaitTask(ctx, task)
	}
	if err != nil && !fault.Is(err, &types.ManagedObjectNotFound{}) {
		return fmt.Errorf("failed to destroy VM %s: %w", found.Ref.Value, err)
	}
	return nil
}

// claimTTL is how long a clone claim stands without a task.
const claimTTL = time.Minute

const claimPrefix = "claim/"

// newClaim is a status.taskRef saying "identity is about to clone".
func newClaim(identity string) string {
	return claimPrefix + strconv.FormatInt(time.Now().UnixNano(), 10) + "/" + identity
}

func claimTime(ref string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(ref, claimPrefix)
	if !ok {
		return time.Time{}, false
	}
	ns, _, _ := strings.Cut(rest, "/")
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, true
	}
	return time.Unix(0, n), true
}
