package virtualmachine

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cluster-api/util/conditions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/providers/vsphere/ipam"
	"github.com/open-supervisor/supervisor/providers/vsphere/vmwatch"
)

// reconcilerEnv is one reconciler on a fake API server and a fake vCenter,
// holding one VirtualMachine, "web", and everything it names.
type reconcilerEnv struct {
	t      *testing.T
	client client.Client
	vc     *fakeVCenter
	events *events.FakeRecorder
	r      *Reconciler
	key    client.ObjectKey
}

const testUID = "4c0c9a4e-0000-4000-8000-000000000001"

func newScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, vmopv1.AddToScheme, vspherev1.AddToScheme} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// webVM is a VM whose class, image, storage class and network all exist.
func webVM() *vmopv1.VirtualMachine {
	return &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "web", UID: testUID, Generation: 1},
		Spec:       vmopv1.VirtualMachineSpec{ClassName: "small", ImageName: "ubuntu", StorageClass: "fast"},
	}
}

func newReconcilerEnv(t *testing.T, vm *vmopv1.VirtualMachine, funcs *interceptor.Funcs) *reconcilerEnv {
	t.Helper()
	objs := []client.Object{
		vm,
		&vmopv1.VirtualMachineClass{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "small"},
			Spec: vmopv1.VirtualMachineClassSpec{
				Hardware: vmopv1.VirtualMachineClassHardware{Cpus: 2, Memory: resource.MustParse("4Gi")},
				Policies: vmopv1.VirtualMachineClassPolicies{Resources: vmopv1.VirtualMachineClassResources{
					Requests: vmopv1.VirtualMachineResourceSpec{Cpu: resource.MustParse("500m"), Memory: resource.MustParse("1Gi")},
				}},
			},
		},
		&vmopv1.ClusterVirtualMachineImage{
			ObjectMeta: metav1.ObjectMeta{Name: "ubuntu"},
			Status:     vmopv1.VirtualMachineImageStatus{Type: vmopv1.ImageTypeVM, ProviderItemID: fakeTemplateID},
		},
		&storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: "fast"},
			Provisioner: "csi.vsphere.vmware.com",
			Parameters:  map[string]string{StorageClassDatastoreURLParameter: fakeDatastoreURL},
		},
		&vspherev1.WorkloadNetwork{
			ObjectMeta: metav1.ObjectMeta{Name: "primary"},
			Spec: vspherev1.WorkloadNetworkSpec{PortGroup: fakePortGroup, AddressRanges: []string{"10.0.0.1-10.0.0.3"},
				PrefixLength: 24, Gateway: "10.0.0.1"},
		},
	}
	b := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(objs...).WithStatusSubresource(&vmopv1.VirtualMachine{})
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	c := b.Build()
	e := &reconcilerEnv{t: t, client: c, vc: newFakeVCenter(), events: events.NewFakeRecorder(100), key: client.ObjectKeyFromObject(vm)}
	e.r = &Reconciler{
		Client: c, APIReader: c, Recorder: e.events,
		IPAM:           &ipam.Allocator{Client: c, Reader: c},
		DefaultNetwork: "primary",
		vcenter:        e.vc,
		id:             "test-manager",
	}
	return e
}

func (e *reconcilerEnv) reconcile() (ctrl.Result, error) {
	e.t.Helper()
	return e.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: e.key})
}

// mustReconcile reconciles and fails the test on an error.
func (e *reconcilerEnv) mustReconcile() ctrl.Result {
	e.t.Helper()
	res, err := e.reconcile()
	if err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
	return res
}

func (e *reconcilerEnv) get() *vmopv1.VirtualMachine {
	e.t.Helper()
	vm := &vmopv1.VirtualMachine{}
	if err := e.client.Get(context.Background(), e.key, vm); err != nil {
		e.t.Fatal(err)
	}
	return vm
}

func (e *reconcilerEnv) allocations() []string {
	e.t.Helper()
	var list vspherev1.IPAddressAllocationList
	if err := e.client.List(context.Background(), &list); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range list.Items {
		out = append(out, a.Spec.Address)
	}
	return out
}

func (e *reconcilerEnv) drainEvents() []string {
	var out []string
	for {
		select {
		case ev := <-e.events.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// wantCondition checks one condition's status and reason.
func wantCondition(t *testing.T, vm *vmopv1.VirtualMachine, typ string, status metav1.ConditionStatus, reason string) {
	t.Helper()
	c := conditions.Get(vm, typ)
	if c == nil || c.Status != status || c.Reason != reason {
		t.Errorf("condition %s: want %s/%s, got %+v", typ, status, reason, c)
	}
}

func TestReconcileWaitsForTheWatchToSync(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.vc.synced = make(chan struct{})
	res := e.mustReconcile()
	if res.RequeueAfter == 0 {
		t.Error("an unsynced watch must be waited for")
	}
	if vm := e.get(); len(vm.Finalizers) != 0 || len(e.vc.recorded()) != 0 {
		t.Errorf("nothing may happen before the watch syncs: finalizers %v, calls %v", vm.Finalizers, e.vc.recorded())
	}
}

func TestCreateClonesOnceThenReportsTheVM(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)

	e.mustReconcile()
	if vm := e.get(); !slices.Contains(vm.Finalizers, Finalizer) || len(e.vc.recorded()) != 0 {
		t.Fatalf("the first reconcile adds the finalizer and nothing else: finalizers %v, calls %v", vm.Finalizers, e.vc.recorded())
	}

	res := e.mustReconcile()
	if res.RequeueAfter == 0 {
		t.Error("a started clone is looked at again")
	}
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"Clone web"}) {
		t.Fatalf("want one clone, got %v", calls)
	}
	vm := e.get()
	clone := e.vc.clones[0]
	if vm.Status.TaskRef != clone.task {
		t.Errorf("status.taskRef: want the clone task %s, got %q", clone.task, vm.Status.TaskRef)
	}
	for _, c := range []string{vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineConditionImageReady,
		vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineConditionNetworkReady, vmopv1.VirtualMachineConditionBootstrapReady} {
		wantCondition(t, vm, c, metav1.ConditionTrue, vmopv1.VirtualMachineReadyReason)
	}
	wantCondition(t, vm, vmopv1.VirtualMachineConditionCreated, metav1.ConditionFalse, vmopv1.VirtualMachineCloningReason)
	if vm.Status.ObservedGeneration != 1 {
		t.Errorf("observedGeneration: want 1 after a successful reconcile, got %d", vm.Status.ObservedGeneration)
	}

	// The clone is what the object asks for: its UID as instance UUID, the
	// class's size and reservations (0.5 vCPU at 2000 MHz, 1 GiB), the
	// storage class's datastore, the network's first free address (the
	// gateway is skipped), and a power-on.
	spec := clone.spec
	if spec.Config.InstanceUuid != testUID || spec.Config.NumCPUs != 2 || spec.Config.MemoryMB != 4096 || !spec.PowerOn {
		t.Errorf("clone config: uuid %s, cpus %d, memory %d MiB, power on %v", spec.Config.InstanceUuid, spec.Config.NumCPUs, spec.Config.MemoryMB, spec.PowerOn)
	}
	if r := spec.Config.CpuAllocation.Reservation; r == nil || *r != 1000 {
		t.Errorf("CPU reservation: want 1000 MHz, got %v", r)
	}
	if r := spec.Config.MemoryAllocation.Reservation; r == nil || *r != 1024 {
		t.Errorf("memory reservation: want 1024 MiB, got %v", r)
	}
	if spec.Location.Datastore == nil || *spec.Location.Datastore != fakeDatastore {
		t.Errorf("datastore: want %v, got %v", fakeDatastore, spec.Location.Datastore)
	}
	if got := e.allocations(); !slices.Equal(got, []string{"10.0.0.2"}) {
		t.Errorf("want address 10.0.0.2 allocated, got %v", got)
	}
	if md := guestinfoValue(t, spec.Config.ExtraConfig, guestinfoMetadata); !strings.Contains(md, "10.0.0.2/24") {
		t.Errorf("guest metadata does not configure the address:\n%s", md)
	}
	if len(spec.Location.DeviceChange) != 1 {
		t.Fatalf("the image's NIC is moved onto the network: device changes %v", spec.Location.DeviceChange)
	}
	if e.vc.images[fakeTemplateID].NIC.GetVirtualDevice().Backing != nil {
		t.Error("the clone changed the image's shared NIC")
	}

	// While vCenter clones, reconciles wait on the task and clone nothing.
	if res := e.mustReconcile(); res.RequeueAfter == 0 {
		t.Error("a running clone is waited for")
	}
	if n := len(e.vc.recorded()); n != 1 {
		t.Fatalf("a reconcile during the clone must not clone again: %v", e.vc.recorded())
	}

	e.vc.finishTask(clone.task, nil)
	e.mustReconcile()
	vm = e.get()
	if vm.Status.TaskRef != "" || vm.Status.UniqueID == "" || vm.Status.Host != "esx-1" || vm.Status.PowerState != vmopv1.VirtualMachinePowerStateOn {
		t.Errorf("status after the clone: taskRef %q, uniqueID %q, host %q, power %q", vm.Status.TaskRef, vm.Status.UniqueID, vm.Status.Host, vm.Status.PowerState)
	}
	wantCondition(t, vm, vmopv1.VirtualMachineConditionCreated, metav1.ConditionTrue, vmopv1.VirtualMachineReadyReason)
	wantCondition(t, vm, vmopv1.VirtualMachineConditionReady, metav1.ConditionFalse, vmopv1.VirtualMachineWaitingForIPReason)

	e.vc.setIP(testUID, "10.0.0.2")
	e.mustReconcile()
	vm = e.get()
	wantCondition(t, vm, vmopv1.VirtualMachineConditionReady, metav1.ConditionTrue, vmopv1.VirtualMachineReadyReason)
	if vm.Status.Network == nil || vm.Status.Network.PrimaryIP4 != "10.0.0.2" {
		t.Errorf("status.network: %+v", vm.Status.Network)
	}
	if calls := e.vc.recorded(); len(calls) != 1 {
		t.Errorf("a VM with the class's reservations and power state needs no call: %v", calls)
	}
}

func guestinfoValue(t *testing.T, extra []types.BaseOptionValue, key string) string {
	t.Helper()
	for _, o := range extra {
		if ov := o.GetOptionValue(); ov.Key == key {
			b, err := base64.StdEncoding.DecodeString(ov.Value.(string))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("no extraConfig %s", key)
	return ""
}

// A clone that ends before the watch reports its VM is taken from the
// task's result, and its task stays recorded until the watch holds the VM:
// a reconcile meanwhile finds no VM through the watch and, without the
// task, would clone the VM a second time.
func TestCloneDoneBeforeTheWatchSeesItIsNotClonedAgain(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.mustReconcile() // finalizer
	e.mustReconcile() // clone
	task := e.vc.clones[0].task
	e.vc.unwatched = map[string]bool{testUID: true}
	e.vc.finishTask(task, nil)

	for range 3 {
		e.mustReconcile()
	}
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"Clone web"}) {
		t.Fatalf("while the watch lags, the VM must not be cloned again: calls %v", calls)
	}
	vm := e.get()
	if vm.Status.TaskRef != task || vm.Status.UniqueID == "" {
		t.Fatalf("the VM is reported from the task's result and the task kept: taskRef %q, uniqueID %q", vm.Status.TaskRef, vm.Status.UniqueID)
	}
	wantCondition(t, vm, vmopv1.VirtualMachineConditionCreated, metav1.ConditionTrue, vmopv1.VirtualMachineReadyReason)

	e.vc.mu.Lock()
	e.vc.unwatched = nil
	e.vc.mu.Unlock()
	e.mustReconcile()
	if vm := e.get(); vm.Status.TaskRef != "" {
		t.Errorf("once the watch holds the VM the task is done with: taskRef %q", vm.Status.TaskRef)
	}
}

// The watch may read a clone's VM while vCenter is still making it (vcsim
// lists it before it has its disks, and does not move config.changeVersion
// for them). Once the clone ends the VM is read again: its boot disk is
// grown, not reported missing.
func TestVMReadMidCloneIsReadAgainOnceTheCloneEnds(t *testing.T) {
	vm := webVM()
	vm.Spec.Advanced = &vmopv1.VirtualMachineAdvancedSpec{BootDiskCapacity: ptr.To(resource.MustParse("20Gi"))}
	e := newReconcilerEnv(t, vm, nil)
	e.mustReconcile() // finalizer
	e.mustReconcile() // clone
	e.vc.finishTask(e.vc.clones[0].task, nil)
	e.vc.mu.Lock()
	made := e.vc.vms[testUID]
	e.vc.staleInWatch = map[string]vmwatch.VM{testUID: *made}
	made.Devices = []types.BaseVirtualDevice{&types.VirtualDisk{VirtualDevice: types.VirtualDevice{Key: 2000}, CapacityInKB: 10 << 20}}
	e.vc.mu.Unlock()

	e.mustReconcile()
	got := e.get()
	if c := conditions.Get(got, vmopv1.VirtualMachineConditionStorageReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("the clone's boot disk is found once the clone ended: %+v", c)
	}
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"Clone web", "Reconfigure " + made.Ref.Value}) {
		t.Fatalf("want the boot disk grown, got calls %v", calls)
	}
	if got.Status.TaskRef != "" {
		t.Errorf("the clone is over: taskRef %q", got.Status.TaskRef)
	}
}

// A clone vCenter refuses leaves no claim behind: the next reconcile
// clones again at once instead of waiting the claim out. A clone whose
// request got no answer may have started: its claim stands.
func TestRefusedCloneReleasesItsClaim(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantClaim bool
	}{
		{"refused", soap.WrapSoapFault(&soap.Fault{Code: "ServerFaultCode", String: "not now"}), false},
		{"no answer", errors.New("connection reset by peer"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newReconcilerEnv(t, webVM(), nil)
			e.mustReconcile() // finalizer
			e.vc.cloneErr = tc.err
			if _, err := e.reconcile(); err == nil {
				t.Fatal("a failed clone is an error")
			}
			ref := e.get().Status.TaskRef
			if _, claim := claimTime(ref); claim != tc.wantClaim {
				t.Fatalf("claim left in status: %v, want %v (taskRef %q)", claim, tc.wantClaim, ref)
			}
			wantCondition(t, e.get(), vmopv1.VirtualMachineConditionCreated, metav1.ConditionFalse, vmopv1.VirtualMachineCloneFailedReason)
			e.vc.cloneErr = nil
			e.mustReconcile()
			wantClones := 2
			if tc.wantClaim {
				wantClones = 1 // the claim is waited out
			}
			if calls := e.vc.recorded(); len(calls) != wantClones {
				t.Errorf("want %d clone requests, got %v", wantClones, calls)
			}
		})
	}
}

func TestBadInputClonesNothing(t *testing.T) {
	vm := webVM()
	vm.Spec.ClassName = "huge"
	e := newReconcilerEnv(t, vm, nil)
	e.mustReconcile()
	res := e.mustReconcile()
	if res.RequeueAfter != inputRetryInterval {
		t.Errorf("bad input is looked at again after %s, got %+v", inputRetryInterval, res)
	}
	got := e.get()
	wantCondition(t, got, vmopv1.VirtualMachineConditionClassReady, metav1.ConditionFalse, vmopv1.VirtualMachineNotFoundReason)
	wantCondition(t, got, vmopv1.VirtualMachineConditionReady, metav1.ConditionFalse, vmopv1.VirtualMachineNotFoundReason)
	if c := conditions.Get(got, vmopv1.VirtualMachineConditionClassReady); c == nil || !strings.Contains(c.Message, "spec.className") {
		t.Errorf("the condition names the field: %+v", c)
	}
	if calls := e.vc.recorded(); len(calls) != 0 {
		t.Errorf("bad input must not reach vCenter: %v", calls)
	}
	if allocs := e.allocations(); len(allocs) != 0 {
		t.Errorf("bad input must not hold an address: %v", allocs)
	}
	if evs := e.drainEvents(); len(evs) != 1 || !strings.HasPrefix(evs[0], "Warning NotFound spec.className") {
		t.Errorf("want one Warning event naming the field, got %q", evs)
	}
}

func TestNoFreeAddressClonesNothing(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	for _, addr := range []string{"10.0.0.2", "10.0.0.3"} {
		if err := e.client.Create(context.Background(), &vspherev1.IPAddressAllocation{
			ObjectMeta: metav1.ObjectMeta{Name: "primary." + addr, Labels: map[string]string{vspherev1.AllocationNetworkLabel: "primary"}},
			Spec:       vspherev1.IPAddressAllocationSpec{Network: "primary", Address: addr},
		}); err != nil {
			t.Fatal(err)
		}
	}
	e.mustReconcile()
	e.mustReconcile()
	wantCondition(t, e.get(), vmopv1.VirtualMachineConditionNetworkReady, metav1.ConditionFalse, vmopv1.VirtualMachineNetworkNoFreeIPReason)
	if calls := e.vc.recorded(); len(calls) != 0 {
		t.Errorf("a VM without an address must not be cloned: %v", calls)
	}
}

// Of two reconciles racing to create one VM, the one whose claim loses
// leaves the clone to the other.
func TestCloneClaimLostToAnotherReconcile(t *testing.T) {
	raced := false
	funcs := &interceptor.Funcs{SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
		if !raced {
			raced = true
			other := obj.DeepCopyObject().(*vmopv1.VirtualMachine)
			other.Status.TaskRef = claimPrefix + "1/other-manager"
			if err := c.Status().Update(ctx, other); err != nil {
				return err
			}
		}
		return c.Status().Update(ctx, obj, opts...)
	}}
	e := newReconcilerEnv(t, webVM(), funcs)
	e.mustReconcile()
	res := e.mustReconcile()
	if !raced {
		t.Fatal("the reconcile did not claim the clone")
	}
	if calls := e.vc.recorded(); len(calls) != 0 {
		t.Errorf("the loser of the claim must not clone: %v", calls)
	}
	if res.RequeueAfter == 0 {
		t.Error("the loser looks again for the winner's VM")
	}
	if got := e.get().Status.TaskRef; got != claimPrefix+"1/other-manager" {
		t.Errorf("the winner's claim must stand, got %q", got)
	}
}

func TestFailedCloneIsReportedAndReturned(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.mustReconcile()
	e.mustReconcile()
	vm := e.get()
	task := vm.Status.TaskRef
	vm.Generation = 2 // a spec change the failed reconcile cannot claim to have seen through
	if err := e.client.Update(context.Background(), vm); err != nil {
		t.Fatal(err)
	}
	e.vc.finishTask(task, errors.New("insufficient disk space"))
	e.drainEvents()

	if _, err := e.reconcile(); err == nil || !strings.Contains(err.Error(), "insufficient disk space") {
		t.Fatalf("a failed clone is an error, got %v", err)
	}
	vm = e.get()
	wantCondition(t, vm, vmopv1.VirtualMachineConditionCreated, metav1.ConditionFalse, vmopv1.VirtualMachineCloneFailedReason)
	if vm.Status.TaskRef != "" {
		t.Errorf("the failed task is forgotten so the next reconcile clones again, got %q", vm.Status.TaskRef)
	}
	if vm.Generation != 2 || vm.Status.ObservedGeneration != 1 {
		t.Errorf("observedGeneration must not move on a failed reconcile, got %d", vm.Status.ObservedGeneration)
	}
	if evs := e.drainEvents(); len(evs) != 1 || !strings.HasPrefix(evs[0], "Warning CloneFailed") {
		t.Errorf("want a CloneFailed warning, got %q", evs)
	}
}

func TestCloneOntoSomeoneElsesNameIsBadInput(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.mustReconcile()
	e.mustReconcile()
	e.vc.finishTask(e.get().Status.TaskRef, faultError{&types.LocalizedMethodFault{Fault: &types.DuplicateName{Name: "web"}, LocalizedMessage: "duplicate"}})

	res := e.mustReconcile()
	if res.RequeueAfter != inputRetryInterval {
		t.Errorf("a name held by someone else is waited out like bad input, got %+v", res)
	}
	vm := e.get()
	wantCondition(t, vm, vmopv1.VirtualMachineConditionCreated, metav1.ConditionFalse, vmopv1.VirtualMachineDuplicateNameReason)
	wantCondition(t, vm, vmopv1.VirtualMachineConditionReady, metav1.ConditionFalse, vmopv1.VirtualMachineDuplicateNameReason)
}

func TestVCenterErrorsAreReturned(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.mustReconcile()
	e.vc.findErr = errors.New("connection refused")
	res, err := e.reconcile()
	if err == nil || res.RequeueAfter != 0 {
		t.Errorf("a vCenter failure is returned as an error, not a timed retry: result %+v, err %v", res, err)
	}
	if vm := e.get(); vm.Status.ObservedGeneration != 0 {
		t.Errorf("observedGeneration must not move on a failed reconcile, got %d", vm.Status.ObservedGeneration)
	}
}

// existingVM returns an env whose VM exists in vCenter, as the reconciler
// made it (status.class set), powered on with its address.
func existingVM(t *testing.T, mutate func(*vmopv1.VirtualMachine, *vmwatch.VM)) *reconcilerEnv {
	t.Helper()
	vm := webVM()
	vm.Finalizers = []string{Finalizer}
	vm.Status.Class = &vmopv1.LocalObjectRef{Kind: "VirtualMachineClass", Name: "small"}
	found := vmwatch.VM{
		Ref: types.ManagedObjectReference{Type: "VirtualMachine", Value: "vm-7"}, Name: "web", InstanceUUID: testUID,
		PowerState: types.VirtualMachinePowerStatePoweredOn, IPAddress: "10.0.0.2", CPUReservation: 1000, MemReservation: 1024,
	}
	if mutate != nil {
		mutate(vm, &found)
	}
	e := newReconcilerEnv(t, vm, nil)
	e.vc.addVM(found)
	return e
}

func TestPowerStateFollowsTheSpec(t *testing.T) {
	e := existingVM(t, func(vm *vmopv1.VirtualMachine, _ *vmwatch.VM) {
		vm.Spec.PowerState = vmopv1.VirtualMachinePowerStateOff
	})
	e.mustReconcile()
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"PowerOff vm-7"}) {
		t.Fatalf("want the VM powered off, got %v", calls)
	}
	// Status reports what vCenter said before the change, until the watch
	// reports the new state.
	wantCondition(t, e.get(), vmopv1.VirtualMachineConditionReady, metav1.ConditionFalse, vmopv1.VirtualMachinePowerStateChangingReason)
	e.mustReconcile()
	wantCondition(t, e.get(), vmopv1.VirtualMachineConditionReady, metav1.ConditionTrue, vmopv1.VirtualMachineReadyReason)
	if n := len(e.vc.recorded()); n != 1 {
		t.Errorf("a VM in the asked state is left alone: %v", e.vc.recorded())
	}
}

func TestReservationsAreReappliedOnce(t *testing.T) {
	e := existingVM(t, func(_ *vmopv1.VirtualMachine, found *vmwatch.VM) { found.CPUReservation, found.MemReservation = 0, 0 })
	e.mustReconcile()
	e.mustReconcile()
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"Reconfigure vm-7"}) {
		t.Fatalf("want one reconfigure, got %v", calls)
	}
	spec := e.vc.configs[0]
	if *spec.CpuAllocation.Reservation != 1000 || *spec.MemoryAllocation.Reservation != 1024 {
		t.Errorf("reservations: cpu %d MHz, memory %d MiB", *spec.CpuAllocation.Reservation, *spec.MemoryAllocation.Reservation)
	}
}

func TestAdoptedVMKeepsItsReservations(t *testing.T) {
	e := existingVM(t, func(vm *vmopv1.VirtualMachine, found *vmwatch.VM) {
		vm.Status.Class = nil
		found.CPUReservation = 0
	})
	e.mustReconcile()
	if calls := e.vc.recorded(); len(calls) != 0 {
		t.Errorf("a VM this reconciler did not clone keeps its reservations: %v", calls)
	}
}

func TestDeleteDestroysTheVMAndReleasesItsAddress(t *testing.T) {
	e := existingVM(t, nil)
	ctx := context.Background()
	if _, err := e.r.IPAM.Ensure(ctx, &vspherev1.WorkloadNetwork{
		ObjectMeta: metav1.ObjectMeta{Name: "primary"},
		Spec:       vspherev1.WorkloadNetworkSpec{AddressRanges: []string{"10.0.0.2-10.0.0.3"}},
	}, ipam.Owner{Kind: "VirtualMachine", UID: testUID}); err != nil {
		t.Fatal(err)
	}
	if err := e.client.Delete(ctx, e.get()); err != nil {
		t.Fatal(err)
	}
	e.mustReconcile()
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"Destroy vm-7"}) {
		t.Errorf("want the VM destroyed, got %v", calls)
	}
	if allocs := e.allocations(); len(allocs) != 0 {
		t.Errorf("want the address released, got %v", allocs)
	}
	if err := e.client.Get(ctx, e.key, &vmopv1.VirtualMachine{}); err == nil {
		t.Error("with the VM gone the finalizer goes and the object with it")
	}
}

func TestDeleteWaitsForARunningClone(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.mustReconcile()
	e.mustReconcile()
	task := e.get().Status.TaskRef
	ctx := context.Background()
	if err := e.client.Delete(ctx, e.get()); err != nil {
		t.Fatal(err)
	}
	if res := e.mustReconcile(); res.RequeueAfter == 0 {
		t.Error("a running clone is waited for")
	}
	if vm := e.get(); !slices.Contains(vm.Finalizers, Finalizer) {
		t.Fatal("the finalizer stays while vCenter clones")
	}

	e.vc.finishTask(task, nil)
	e.mustReconcile()
	if calls := e.vc.recorded(); !slices.Equal(calls, []string{"Clone web", "Destroy vm-2"}) {
		t.Errorf("the clone's VM is destroyed once it exists, got %v", calls)
	}
	if err := e.client.Get(ctx, e.key, &vmopv1.VirtualMachine{}); err == nil {
		t.Error("the object goes once its VM is destroyed")
	}
}

// A restart finds a VM mid-clone by its UUID: it waits for the task
// instead of cloning, and reports the VM as not yet Ready.
func TestVMSeenBeforeItsCloneEndsIsNotReady(t *testing.T) {
	e := newReconcilerEnv(t, webVM(), nil)
	e.mustReconcile()
	e.mustReconcile()
	task := e.get().Status.TaskRef
	e.vc.mu.Lock()
	e.vc.tasks[task].clone.spec.PowerOn = false
	e.vc.mu.Unlock()
	e.vc.finishTask(task, nil)
	e.vc.mu.Lock()
	e.vc.tasks[task].done = false // the VM is there, the task not over
	e.vc.mu.Unlock()

	if res := e.mustReconcile(); res.RequeueAfter == 0 {
		t.Error("the end of the clone is waited for")
	}
	vm := e.get()
	wantCondition(t, vm, vmopv1.VirtualMachineConditionCreated, metav1.ConditionFalse, vmopv1.VirtualMachineCloningReason)
	wantCondition(t, vm, vmopv1.VirtualMachineConditionReady, metav1.ConditionFalse, vmopv1.VirtualMachineCloningReason)
	if vm.Status.UniqueID == "" {
		t.Error("the VM is reported while vCenter finishes the clone")
	}
	if calls := e.vc.recorded(); len(calls) != 1 {
		t.Errorf("nothing is done to a VM vCenter is still cloning (its power-on is part of the clone): %v", calls)
	}
}

// A watch can miss an update (vcsim loses some), and a VM waiting for its
// address would then wait for good: once it has waited doubtTheWatchAfter,
// each look reads it from vCenter, and it is looked at again meanwhile.
func TestAVMWaitingLongOnTheWatchIsReadFromVCenter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		waited    time.Duration
		wantReady bool
	}{
		{"waited a moment: the watch is trusted", 2 * time.Second, false},
		{"waited long: vCenter is asked", 20 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := existingVM(t, func(vm *vmopv1.VirtualMachine, _ *vmwatch.VM) {
				vm.Status.PowerState = vmopv1.VirtualMachinePowerStateOn
				vm.Status.Conditions = []metav1.Condition{{Type: vmopv1.VirtualMachineConditionReady, Status: metav1.ConditionFalse,
					Reason: vmopv1.VirtualMachineWaitingForIPReason, LastTransitionTime: metav1.NewTime(time.Now().Add(-tc.waited))}}
			})
			e.vc.mu.Lock()
			stale := *e.vc.vms[testUID]
			stale.IPAddress = "" // the address the watch never reported
			e.vc.staleInWatch = map[string]vmwatch.VM{testUID: stale}
			e.vc.mu.Unlock()

			res := e.mustReconcile()
			got := e.get()
			if ready := conditions.IsTrue(got, vmopv1.VirtualMachineConditionReady); ready != tc.wantReady {
				t.Fatalf("Ready %v, want %v: %+v", ready, tc.wantReady, conditions.Get(got, vmopv1.VirtualMachineConditionReady))
			}
			if tc.wantReady {
				if got.Status.Network == nil || got.Status.Network.PrimaryIP4 != "10.0.0.2" {
					t.Errorf("the address read from vCenter is reported: %+v", got.Status.Network)
				}
				return
			}
			if res.RequeueAfter != doubtTheWatchAfter {
				t.Errorf("a VM waiting on the watch is looked at again after %s, got %+v", doubtTheWatchAfter, res)
			}
		})
	}
}
