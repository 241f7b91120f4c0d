package virtualmachine

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// createVM resolves the inputs, takes an address and starts the clone.
// Nothing is created in vCenter until every input checks out.
func (r *Reconciler) createVM(ctx context.Context, vm *vmopv1.VirtualMachine) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	plan, err := r.planClone(ctx, vm)
	if err != nil {
		return ctrl.Result{}, err
	}
	nw, err := r.allocateAddresses(ctx, vm, plan)
	if err != nil {
		return ctrl.Result{}, err
	}
	cpuRes, memRes, err := r.reservations(ctx, plan.class)
	if err != nil {
		return ctrl.Result{}, err
	}
	spec, err := cloneSpec(vm, plan, nw, cpuRes, memRes)
	if err != nil {
		return ctrl.Result{}, err
	}
	folder, err := r.vcenter.NamespaceFolder(ctx, vm.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	claim, err := r.claimClone(ctx, vm)
	if err != nil {
		return ctrl.Result{}, err
	}
	if claim == "" {
		// Not an error: another reconcile (a second manager) is cloning
		// this VM, and the next look finds its task or its VM.
		log.V(4).Info("Waiting for another reconcile's clone of this VM")
		return ctrl.Result{RequeueAfter: taskPollInterval}, nil
	}
	if err := r.startClone(ctx, vm, plan, nw, folder, spec); err != nil {
		if refusedByVCenter(err) {
			// vCenter answered no: nothing is cloning, and the next
			// reconcile need not wait out the claim to try again. (After
			// an error without vCenter's answer the clone may have
			// started; the claim then stands until its VM shows up or it
			// lapses.)
			if rerr := r.releaseClaim(ctx, vm, claim); rerr != nil {
				log.Error(rerr, "Could not take back the clone's claim; it lapses in time", "lapsesAfter", claimTTL)
			}
		}
		return ctrl.Result{}, err
	}
	// A wait on the clone task vCenter is running; the watch usually
	// reports the VM sooner.
	return ctrl.Result{RequeueAfter: taskPollInterval}, nil
}

// planClone resolves everything a clone needs from the object, reporting
// each input's condition True as it checks out. The first bad input stops
// it with an inputError.
func (r *Reconciler) planClone(ctx context.Context, vm *vmopv1.VirtualMachine) (*createPlan, error) {
	plan := &createPlan{}
	var err error
	if plan.class, err = r.resolveClass(ctx, vm); err != nil {
		return nil, err
	}
	setConditionReady(vm, vmopv1.VirtualMachineConditionClassReady)
	imageRef, imageStatus, err := r.resolveImage(ctx, vm)
	if err != nil {
		return nil, err
	}
	plan.imageRef = imageRef
	if plan.datastore, err = r.resolveDatastore(ctx, vm); err != nil {
		return nil, err
	}
	if plan.disks, err = r.resolveVolumes(ctx, vm, plan.datastore); err != nil {
		return nil, err
	}
	setConditionReady(vm, vmopv1.VirtualMachineConditionStorageReady)
	nics, err := r.resolveNetworks(ctx, vm)
	if err != nil {
		return nil, err
	}
	if len(nics) > 0 {
		plan.network, plan.backing, plan.extraNICs = nics[0].network, nics[0].backing, nics[1:]
	}
	if plan.userdata, err = r.resolveUserData(ctx, vm); err != nil {
		return nil, err
	}
	if plan.customization, err = r.resolveCustomization(ctx, vm); err != nil {
		return nil, err
	}
	if plan.vAppProperties, err = r.resolveVAppProperties(ctx, vm); err != nil {
		return nil, err
	}
	if plan.classConfig, err = classConfigSpec(plan.class); err != nil {
		return nil, err
	}
	setConditionReady(vm, vmopv1.VirtualMachineConditionBootstrapReady)
	if plan.image, err = r.resolveImageContent(ctx, imageStatus, plan, vm.Spec.ImageName); err != nil {
		return nil, err
	}
	setConditionReady(vm, vmopv1.VirtualMachineConditionImageReady)
	reqs := plan.disks
	if boot, err := r.bootDiskRequest(ctx, vm, plan); err != nil {
		return nil, err
	} else if boot != nil {
		reqs = append([]diskRequest{*boot}, reqs...)
	}
	if len(reqs) > 0 {
		if plan.diskChanges, plan.diskConfig, err = addDisks(plan.image.Devices, reqs); err != nil {
			return nil, err
		}
		// The boot disk is no volume: it is not recorded as one.
		plan.diskConfig = slices.DeleteFunc(plan.diskConfig, func(o types.BaseOptionValue) bool {
			return o.GetOptionValue().Key == volumeKeyPrefix
		})
	}
	return plan, nil
}

// claimClone tells, through the API server, that this reconcile is about
// to clone, before vCenter is asked: the status write carries the
// resourceVersion we read, so of two reconciles racing (two managers, no
// leader election) exactly one wins the claim; the other gets "". The
// folder's name uniqueness would stop the loser in a real vCenter, but not
// in every simulator, and a claim costs vCenter nothing. The claim is written from a
// copy, so that vm keeps its other status as the reconcile changed it, and
// vm takes the claim's resourceVersion, so that the reconcile's final
// status write is guarded against any change after the claim.
func (r *Reconciler) claimClone(ctx context.Context, vm *vmopv1.VirtualMachine) (claim string, err error) {
	claimed := vm.DeepCopy()
	claimed.Status.TaskRef = newClaim(r.identity())
	if err := r.Client.Status().Update(ctx, claimed); err != nil {
		if apierrors.IsConflict(err) {
			return "", nil
		}
		return "", fmt.Errorf("failed to claim the clone of VirtualMachine %s: %w", klog.KObj(vm), err)
	}
	vm.ResourceVersion = claimed.ResourceVersion
	return claimed.Status.TaskRef, nil
}

// releaseClaim takes back a claim whose clone vCenter refused. Like the
// claim, it is written from a copy and only if nothing changed since.
func (r *Reconciler) releaseClaim(ctx context.Context, vm *vmopv1.VirtualMachine, claim string) error {
	released := vm.DeepCopy()
	released.Status.TaskRef = ""
	claimed := released.DeepCopy()
	claimed.Status.TaskRef = claim
	if err := r.Client.Status().Patch(ctx, released, client.MergeFromWithOptions(claimed, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("failed to release the clone claim of VirtualMachine %s: %w", klog.KObj(vm), err)
	}
	vm.ResourceVersion = released.ResourceVersion
	return nil
}

// startClone asks vCenter to clone and records the task, so the next
// reconcile (here or after a restart) waits for it instead of cloning.
func (r *Reconciler) startClone(ctx context.Context, vm *vmopv1.VirtualMachine, plan *createPlan, nws []*guestNetwork,
	folder types.ManagedObjectReference, spec *types.VirtualMachineCloneSpec) error {
	log := ctrl.LoggerFrom(ctx)
	log.Info("Cloning VM", "image", vm.Spec.ImageName, "class", vm.Spec.ClassName, "ip", addrOf(nws), "nics", len(nws))
	task, err := r.vcenter.Clone(ctx, plan.image.Template, folder, vm.Name, *spec)
	if err != nil {
		setCreatedCondition(vm, false, err)
		r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, vmopv1.VirtualMachineCloneFailedReason, "Create", "vCenter refused the clone: %v", err)
		return fmt.Errorf("failed to clone VM %s/%s: %w", vm.Namespace, vm.Name, err)
	}
	vm.Status.TaskRef = task
	// The clone is ours: an address a racing reconcile allocated for this
	// VM will not be used. After the clone, not before it: a restart in
	// between finds the VM by UUID, while one between the claim and the
	// clone waits out the claim. Not fatal: the VM's deletion frees every
	// address of its owner anyway.
	nics := append([]nicPlan{{network: plan.network}}, plan.extraNICs...)
	for i, nw := range nws {
		if len(interfaces(vm)[i].Addresses) > 0 || len(nw.Addresses) == 0 {
			continue // not from the network's range
		}
		if err := r.IPAM.ReleaseOthers(ctx, nics[i].network.Name, string(vm.UID), nw.Addresses[0].Addr()); err != nil {
			log.Error(err, "Could not release the addresses a racing reconcile allocated")
		}
	}
	vm.Status.Class = &vmopv1.LocalObjectRef{APIVersion: vmopv1.GroupVersion.String(), Kind: "VirtualMachineClass", Name: plan.class.Name}
	vm.Status.Image = &plan.imageRef
	setCreatedCondition(vm, true, nil)
	r.Recorder.Eventf(vm, nil, corev1.EventTypeNormal, vmopv1.VirtualMachineCloningReason, "Create", "Cloning VM from image %s", vm.Spec.ImageName)
	return nil
}

func addrOf(nws []*guestNetwork) string {
	if p, ok := primaryAddress(nws); ok {
		return p.Addr().String()
	}
	return ""
}

// cloneSpec sizes, networks and bootstraps the clone, and places it on the
// plan's datastore (vCenter puts it in the supervisor's resource pool). The
// reservations are the class's, in MHz and MiB.
func cloneSpec(vm *vmopv1.VirtualMachine, plan *createPlan, nws []*guestNetwork, cpuRes, memRes int64) (*types.VirtualMachineCloneSpec, error) {
	hostname := hostName(vm)
	metadata, err := renderMetadata(string(vm.UID), hostname, nws)
	if err != nil {
		return nil, fmt.Errorf("failed to render guest metadata: %w", err)
	}
	memMB := plan.class.Spec.Hardware.Memory.Value() / (1024 * 1024)
	edit, add := nicChanges(plan)
	spec := &types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Datastore: &plan.datastore, DeviceChange: edit},
		Config: &types.VirtualMachineConfigSpec{
			InstanceUuid:     string(vm.UID),
			NumCPUs:          int32(plan.class.Spec.Hardware.Cpus),
			MemoryMB:         memMB,
			CpuAllocation:    &types.ResourceAllocationInfo{Reservation: ptr.To(cpuRes)},
			MemoryAllocation: &types.ResourceAllocationInfo{Reservation: ptr.To(memRes)},
			ExtraConfig:      slices.Concat(guestinfo(metadata, plan.userdata), plan.diskConfig),
			DeviceChange:     slices.Concat(plan.diskChanges, add),
			// cloud-init must prefer guestinfo over OVF properties, unless
			// the VM is bootstrapped through vApp properties.
			VAppConfigRemoved: ptr.To(plan.vAppProperties == nil),
		},
		Customization: plan.customization,
		PowerOn:       desiredPowerState(vm) == vmopv1.VirtualMachinePowerStateOn,
	}
	if plan.customization != nil {
		// vCenter wants one adapter mapping per NIC: a VM without
		// networking keeps its image's NIC, which gets DHCP.
		nics := nws
		if len(nics) == 0 && plan.image.NIC != nil {
			nics = []*guestNetwork{{}}
		}
		spec.Customization = withNICSettings(plan.customization, nics, hostname)
	}
	if vm.Spec.MinHardwareVersion > 0 {
		// Upgraded before its first power-on (reconcileExisting).
		spec.PowerOn = false
	}
	if plan.vAppProperties != nil {
		// The properties are set once the VM exists (vCenter keeps the
		// image's vApp descriptor; a simulator may not), then it is
		// powered on: the guest must read them on its first boot.
		spec.PowerOn = false
	}
	mergeClassConfig(spec.Config, plan.classConfig)
	return spec, nil
}

// hostName is the guest's host name: spec.network.hostName or the VM's name.
func hostName(vm *vmopv1.VirtualMachine) string {
	if vm.Spec.Network != nil && vm.Spec.Network.HostName != "" {
		return vm.Spec.Network.HostName
	}
	return vm.Name
}

// copyDevice returns a shallow copy of a device; its VirtualDevice (key,
// backing, connectable) is embedded by value, so it can be changed alone.
func copyDevice(d types.BaseVirtualDevice) types.BaseVirtualDevice {
	v := reflect.ValueOf(d).Elem()
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	return c.Interface().(types.BaseVirtualDevice)
}

// reservations returns the CPU (MHz) and memory (MiB) the class reserves:
// requests are counted in vCPUs at the slowest host's clock, as vm-operator does.
func (r *Reconciler) reservations(ctx context.Context, class *vmopv1.VirtualMachineClass) (cpuMhz, memMB int64, err error) {
	req := class.Spec.Policies.Resources.Requests
	if !req.Cpu.IsZero() {
		mhz, err := r.vcenter.MinHostCPUMhz(ctx)
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
	ref := vm.Status.TaskRef
	done, taskErr, err := r.taskDone(ctx, ref)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !done {
		return ctrl.Result{RequeueAfter: taskPollInterval}, nil // vCenter is still cloning
	}
	if taskErr == nil {
		// Finished before the watch reported the VM: take it from the
		// task's result. The task stays in status.taskRef until the watch
		// holds the VM (stillCloning then clears it): meanwhile the watch
		// answers that no such VM exists, and a reconcile that no longer
		// knew of the task would clone it a second time.
		found, ok, err := r.vcenter.ClonedVM(ctx, ref, string(vm.UID))
		if err != nil {
			return ctrl.Result{}, err
		}
		if !ok {
			// Destroyed since: the next look clones it again.
			vm.Status.TaskRef = ""
			return ctrl.Result{RequeueAfter: taskPollInterval}, nil
		}
		res, err := r.reconcileExisting(ctx, vm, found)
		if err == nil && res.RequeueAfter == 0 {
			// The watch's report of the VM may have come in before this
			// status was written, its reconcile then read the old status:
			// look again rather than wait for the VM's next change.
			res.RequeueAfter = taskPollInterval
		}
		return res, err
	}
	vm.Status.TaskRef = ""
	if fault.Is(taskErr, &types.DuplicateName{}) {
		// Not ours (no VM has our UUID): someone else's VM holds the name.
		return ctrl.Result{}, badInput(vmopv1.VirtualMachineConditionCreated, vmopv1.VirtualMachineDuplicateNameReason,
			"metadata.name: a VM named %q that this object does not own already exists in vCenter folder %s", vm.Name, vm.Namespace)
	}
	setCreatedCondition(vm, false, taskErr)
	r.Recorder.Eventf(vm, nil, corev1.EventTypeWarning, vmopv1.VirtualMachineCloneFailedReason, "Create", "vCenter failed to clone the VM: %v", taskErr)
	return ctrl.Result{}, fmt.Errorf("clone task %s failed: %w", ref, taskErr)
}

// stillCloning says whether vCenter is still cloning the VM that was found.
// Once it is done, found is read again (the watch may have read it while
// vCenter was still making it, without the disks the clone gave it) and
// status.taskRef is cleared; a claim is over as soon as the claimed VM
// exists.
func (r *Reconciler) stillCloning(ctx context.Context, vm *vmopv1.VirtualMachine, found *vmwatch.VM) (bool, error) {
	if vm.Status.TaskRef == "" {
		return false, nil
	}
	if _, claim := claimTime(vm.Status.TaskRef); !claim {
		done, _, err := r.vcenter.TaskState(ctx, vm.Status.TaskRef)
		if err != nil {
			return false, err
		}
		if !done {
			return true, nil
		}
	}
	refreshed, ok, err := r.vcenter.RefreshVM(ctx, *found)
	if err != nil {
		return false, err
	}
	if !ok {
		// Destroyed since: look again once the watch has seen it go.
		return true, nil
	}
	*found = refreshed
	vm.Status.TaskRef = ""
	return false, nil
}

// taskDone reads a clone task's state once, or tells whether a claim has
// lapsed: a claim not followed by a task within claimTTL belonged to a
// reconcile that died before cloning.
func (r *Reconciler) taskDone(ctx context.Context, ref string) (done bool, taskErr error, err error) {
	if at, ok := claimTime(ref); ok {
		return time.Since(at) > claimTTL, nil, nil
	}
	return r.vcenter.TaskState(ctx, ref)
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

// bootDiskRequest is the boot disk to add when advanced.bootDiskCapacity
// is set and the image has no disk of its own (a real image has one, which
// reconcileExisting grows; a simulated one may not).
func (r *Reconciler) bootDiskRequest(ctx context.Context, vm *vmopv1.VirtualMachine, plan *createPlan) (*diskRequest, error) {
	if vm.Spec.Advanced == nil || vm.Spec.Advanced.BootDiskCapacity == nil || bootDisk(plan.image.Devices) != nil {
		return nil, nil
	}
	name, err := r.vcenter.DatastoreName(ctx, plan.datastore)
	if err != nil {
		return nil, err
	}
	return &diskRequest{field: "spec.advanced.bootDiskCapacity", bytes: vm.Spec.Advanced.BootDiskCapacity.Value(),
		datastore: plan.datastore, datastoreName: name}, nil
}
