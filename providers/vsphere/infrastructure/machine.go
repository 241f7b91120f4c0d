package infrastructure

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util"
	"sigs.k8s.io/cluster-api/util/annotations"
	"sigs.k8s.io/cluster-api/util/patch"
	"sigs.k8s.io/cluster-api/util/predicates"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// MachineFinalizer keeps a VSphereMachine until its VirtualMachine, and
// with it the VM in vCenter, is gone: Cluster API deletes the Machine only
// then.
const MachineFinalizer = "vmware.infrastructure.cluster.x-k8s.io/vspheremachine"

// ProviderIDPrefix starts every providerID, followed by the BIOS UUID.
const ProviderIDPrefix = "vsphere://"

// bootstrapDataKey is the key of Cluster API's bootstrap data Secrets.
const bootstrapDataKey = "value"

// MachineReconciler turns a VSphereMachine into a VirtualMachine.
type MachineReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// Concurrency is how many VSphereMachines are reconciled at once.
	Concurrency int
}

// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vspheremachines;vspheremachines/status,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vspheremachines/finalizers,verbs=update
// +kubebuilder:rbac:groups=vmware.infrastructure.cluster.x-k8s.io,resources=vspheremachinetemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=cluster.x-k8s.io,resources=machines;machines/status,verbs=get;list;watch
// +kubebuilder:rbac:groups=bootstrap.cluster.x-k8s.io,resources=kubeadmconfigs,verbs=get;list;watch
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=virtualmachines,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;create

// SetupWithManager registers the controller. Changes of the machine's
// VirtualMachine, its disappearance included, requeue the machine.
func (r *MachineReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&vmwarev1.VSphereMachine{}).
		Owns(&vmopv1.VirtualMachine{}).
		Watches(&clusterv1.Machine{}, handler.EnqueueRequestsFromMapFunc(
			util.MachineToInfrastructureMapFunc(vmwarev1.GroupVersion.WithKind("VSphereMachine")))).
		Watches(&bootstrapv1.KubeadmConfig{}, handler.EnqueueRequestsFromMapFunc(r.kubeadmConfigToVSphereMachine)).
		WithEventFilter(predicates.ResourceNotPaused(mgr.GetScheme(), ctrl.LoggerFrom(ctx))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.Concurrency, 1)}).
		Complete(r)
}

// Reconcile creates, follows or deletes the machine's VirtualMachine.
func (r *MachineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, reterr error) {
	vm := &vmwarev1.VSphereMachine{}
	if err := r.Client.Get(ctx, req.NamespacedName, vm); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	helper, err := patch.NewHelper(vm, r.Client)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to prepare patching VSphereMachine %s: %w", klog.KObj(vm), err)
	}
	defer func() {
		if err := helper.Patch(ctx, vm); err != nil && !apierrors.IsNotFound(err) {
			reterr = errors.Join(reterr, fmt.Errorf("failed to patch VSphereMachine %s: %w", klog.KObj(vm), err))
		}
	}()
	// Deletion needs nothing of the Machine: it may already be gone (the
	// Machine controller stops waiting once it sees its infrastructure go),
	// and a failed owner lookup must not keep the VM and finalizer forever.
	if !vm.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, vm)
	}
	machine, err := util.GetOwnerMachine(ctx, r.Client, vm.ObjectMeta)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to find the Machine of VSphereMachine %s: %w", klog.KObj(vm), err)
	}
	if machine == nil {
		return ctrl.Result{}, nil // Cluster API sets the owner reference
	}
	cluster, err := util.GetClusterFromMetadata(ctx, r.Client, machine.ObjectMeta)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to find the Cluster of Machine %s: %w", klog.KObj(machine), err)
	}
	if annotations.IsPaused(cluster, vm) {
		return ctrl.Result{}, nil
	}
	return r.reconcileNormal(ctx, cluster, machine, vm)
}

func (r *MachineReconciler) reconcileNormal(ctx context.Context, cluster *clusterv1.Cluster, machine *clusterv1.Machine, vm *vmwarev1.VSphereMachine) (ctrl.Result, error) {
	controllerutil.AddFinalizer(vm, MachineFinalizer)
	if !ptr.Deref(cluster.Status.Initialization.InfrastructureProvisioned, false) {
		r.notProvisioned(vm, vmwarev1.VSphereMachineWaitingForClusterInfrastructureReason, "waiting for the cluster's control-plane endpoint")
		return ctrl.Result{}, nil
	}
	bootstrapData, err := r.bootstrapDataSecretName(ctx, machine)
	if err != nil {
		return ctrl.Result{}, err
	}
	if bootstrapData == "" {
		r.notProvisioned(vm, vmwarev1.VSphereMachineWaitingForBootstrapDataReason, "waiting for the Machine's bootstrap data")
		return ctrl.Result{}, nil
	}
	role := vmwarev1.RoleNode
	if util.IsControlPlaneMachine(machine) {
		role = vmwarev1.RoleControlPlane
	}
	if err := r.ensureVolumeClaims(ctx, vm); err != nil {
		return ctrl.Result{}, err
	}
	v := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Namespace: vm.Namespace, Name: vm.Name}}
	op, err := controllerutil.CreateOrPatch(ctx, r.Client, v, func() error {
		if v.Labels == nil {
			v.Labels = map[string]string{}
		}
		v.Labels[vmwarev1.ClusterNameLabel] = cluster.Name
		v.Labels[vmwarev1.ClusterRoleLabel] = role
		v.Labels[clusterv1.ClusterNameLabel] = cluster.Name
		v.Spec.ImageName = vm.Spec.ImageName
		v.Spec.ClassName = vm.Spec.ClassName
		v.Spec.StorageClass = vm.Spec.StorageClass
		v.Spec.PowerState = vmopv1.VirtualMachinePowerStateOn
		v.Spec.Bootstrap = &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{
			RawCloudConfig: &vmopv1.SecretKeySelector{Name: bootstrapData, Key: bootstrapDataKey},
		}}
		v.Spec.Volumes = virtualMachineVolumes(vm)
		// As CAPV passes it on, in vm-operator's spelling. (minHardwareVersion
		// is refused at admission: the VM service would not act on it.)
		v.Spec.PowerOffMode = string(vmPowerOffMode(vm.Spec.PowerOffMode))
		return controllerutil.SetControllerReference(vm, v, r.Client.Scheme())
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to create or patch the VirtualMachine of VSphereMachine %s: %w", klog.KObj(vm), err)
	}
	if op == controllerutil.OperationResultCreated && r.Recorder != nil {
		r.Recorder.Eventf(vm, nil, corev1.EventTypeNormal, "VirtualMachineCreated", "CreateVM", "VirtualMachine %s (%s, %s)", v.Name, v.Spec.ClassName, v.Spec.ImageName)
	}

	// What CAPV's supervisor mode reports of the VM: its phase, BIOS UUID
	// (and with it the providerID) and failure domain as soon as known.
	vm.Status.Phase = machinePhase(v)
	if v.Status.BiosUUID != "" {
		vm.Status.BiosUUID = v.Status.BiosUUID
		vm.Spec.ProviderID = ProviderIDPrefix + v.Status.BiosUUID
	}
	if zone := v.Labels[corev1.LabelTopologyZone]; zone != "" {
		vm.Status.FailureDomain = zone // where vm-operator placed it, as CAPV reads it
	}
	vm.Status.Network = machineNetworkStatus(v)
	ip := ""
	if v.Status.Network != nil {
		ip = v.Status.Network.PrimaryIP4
	}
	if vm.Spec.ProviderID == "" || ip == "" || v.Status.PowerState != vmopv1.VirtualMachinePowerStateOn {
		why := "waiting for the VirtualMachine to be cloned, powered on and to report its IP"
		if c := meta.FindStatusCondition(v.Status.Conditions, vmopv1.VirtualMachineConditionReady); c != nil && c.Status == metav1.ConditionFalse && c.Message != "" {
			why = "VirtualMachine: " + c.Message
		}
		r.notProvisioned(vm, vmwarev1.VSphereMachineWaitingForVirtualMachineReason, why)
		return ctrl.Result{}, nil // the VirtualMachine's changes bring us back
	}
	vm.Status.Addresses = []clusterv1.MachineAddress{{Type: clusterv1.MachineInternalIP, Address: ip}, {Type: clusterv1.MachineHostName, Address: v.Name}}
	vm.Status.Initialization.Provisioned = ptr.To(true)
	vm.Status.Phase = vmwarev1.VSphereMachinePhaseReady
	setMachineConditions(vm, metav1.ConditionTrue, vmwarev1.VSphereMachineVirtualMachineProvisionedReason, ip)
	return ctrl.Result{}, nil
}

func (r *MachineReconciler) notProvisioned(vm *vmwarev1.VSphereMachine, reason, msg string) {
	setMachineConditions(vm, metav1.ConditionFalse, reason, msg)
}

// setMachineConditions sets VirtualMachineProvisioned and Ready, which
// follows it, and their legacy (v1beta1) counterparts VMProvisioned and
// Ready, as CAPV does.
func setMachineConditions(vm *vmwarev1.VSphereMachine, status metav1.ConditionStatus, reason, msg string) {
	readyReason := clusterv1.ReadyReason
	if status != metav1.ConditionTrue {
		readyReason = clusterv1.NotReadyReason
	}
	meta.SetStatusCondition(&vm.Status.Conditions, metav1.Condition{Type: vmwarev1.VSphereMachineVirtualMachineProvisionedCondition, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: vm.Generation})
	meta.SetStatusCondition(&vm.Status.Conditions, metav1.Condition{Type: vmwarev1.VSphereMachineReadyCondition, Status: status,
		Reason: readyReason, Message: msg, ObservedGeneration: vm.Generation})
	legacyReason := ""
	if status != metav1.ConditionTrue {
		legacyReason = reason
	}
	vm.SetV1Beta1Conditions(setLegacyConditions(vm.GetV1Beta1Conditions(), vmwarev1.VMProvisionedV1Beta1Condition, status, legacyReason, msg))
}

// machinePhase is CAPV's status.phase of a VSphereMachine whose
// VirtualMachine is v (Ready is set once it is provisioned).
func machinePhase(v *vmopv1.VirtualMachine) vmwarev1.VSphereMachinePhase {
	switch {
	case !v.DeletionTimestamp.IsZero():
		return vmwarev1.VSphereMachinePhaseDeleting
	case v.Status.PowerState == vmopv1.VirtualMachinePowerStateOn:
		return vmwarev1.VSphereMachinePhasePoweredOn
	case v.Status.UniqueID != "" || v.Status.BiosUUID != "":
		return vmwarev1.VSphereMachinePhaseCreated
	default:
		return vmwarev1.VSphereMachinePhasePending
	}
}

// reconcileDelete deletes the VirtualMachine and keeps the finalizer until
// the VM service has destroyed its VM in vCenter and let it go: its
// disappearance requeues the machine (Owns). The machine's volume claims
// are controlled by it, so the garbage collector deletes them once it is
// gone, after the VM and its disks.
func (r *MachineReconciler) reconcileDelete(ctx context.Context, vm *vmwarev1.VSphereMachine) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	v := &vmopv1.VirtualMachine{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: vm.Name}, v)
	switch {
	case apierrors.IsNotFound(err):
		controllerutil.RemoveFinalizer(vm, MachineFinalizer)
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("failed to get the VirtualMachine of VSphereMachine %s: %w", klog.KObj(vm), err)
	case !metav1.IsControlledBy(v, vm):
		controllerutil.RemoveFinalizer(vm, MachineFinalizer) // not ours to delete
		return ctrl.Result{}, nil
	}
	if v.DeletionTimestamp.IsZero() {
		log.Info("Deleting VirtualMachine", "VirtualMachine", klog.KObj(v))
		if err := r.Client.Delete(ctx, v); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("failed to delete VirtualMachine %s: %w", klog.KObj(v), err)
		}
	}
	vm.Status.Phase = vmwarev1.VSphereMachinePhaseDeleting
	r.notProvisioned(vm, vmwarev1.VSphereMachineDeletingReason, "waiting for the VirtualMachine to be destroyed")
	log.Info("Waiting for the VM service to destroy the VirtualMachine", "VirtualMachine", klog.KObj(v))
	return ctrl.Result{}, nil
}

// machineNetworkStatus is the VM's observed interfaces as CAPV mirrors them
// into status.network (names, MAC and IP addresses with their origin),
// leaving out what CAPV's schema would refuse: empty interfaces, and
// addresses beyond its ten per interface.
func machineNetworkStatus(v *vmopv1.VirtualMachine) vmwarev1.VSphereMachineNetworkStatus {
	var out vmwarev1.VSphereMachineNetworkStatus
	if v.Status.Network == nil {
		return out
	}
	for _, in := range v.Status.Network.Interfaces {
		iface := vmwarev1.VSphereMachineNetworkInterfaceStatus{}
		if len(in.Name) >= 2 {
			iface.Name = in.Name
		}
		if in.IP != nil {
			iface.IP.MACAddr = in.IP.MACAddr
			for _, a := range in.IP.Addresses {
				if len(iface.IP.Addresses) == 10 {
					break
				}
				iface.IP.Addresses = append(iface.IP.Addresses, vmwarev1.VSphereMachineNetworkInterfaceIPAddrStatus{Address: a.Address, Origin: a.Origin})
			}
		}
		if iface.Name != "" || iface.IP.IsDefined() {
			out.Interfaces = append(out.Interfaces, iface)
		}
	}
	return out
}

// vmPowerOffMode is CAPV's mapping of a VSphereMachine's powerOffMode to
// vm-operator's (hard when unset, as the CRD defaults it).
func vmPowerOffMode(m vmwarev1.VirtualMachinePowerOpMode) vmopv1.VirtualMachinePowerOpMode {
	switch m {
	case vmwarev1.VirtualMachinePowerOpModeSoft:
		return vmopv1.VirtualMachinePowerOpModeSoft
	case vmwarev1.VirtualMachinePowerOpModeTrySoft:
		return vmopv1.VirtualMachinePowerOpModeTrySoft
	default:
		return vmopv1.VirtualMachinePowerOpModeHard
	}
}
