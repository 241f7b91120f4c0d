package virtualmachine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
)

// StorageClassDatastoreURLParameter is the StorageClass parameter naming the
// datastore VMs of that class are placed on (vSphere CSI's parameter name).
const StorageClassDatastoreURLParameter = "datastoreURL"

// inputError is bad or missing input: the VM cannot be created until the user
// (or the admin) fixes it. It names the condition, the reason and the field.
type inputError struct {
	condition string
	reason    string
	message   string
}

func (e *inputError) Error() string { return e.message }

func badInput(condition, reason, format string, args ...any) error {
	return &inputError{condition: condition, reason: reason, message: fmt.Sprintf(format, args...)}
}

// createPlan is everything a clone needs, resolved from the object.
type createPlan struct {
	class     *vmopv1.VirtualMachineClass
	imageRef  vmopv1.LocalObjectRef
	image     *inventory.Image
	datastore types.ManagedObjectReference
	network   *vspherev1.WorkloadNetwork // the first NIC's; nil when networking is disabled
	backing   types.BaseVirtualDeviceBackingInfo
	// extraNICs are the second and later interfaces' NICs.
	extraNICs []nicPlan
	// customization is the guest customization (linuxPrep, sysprep), if any.
	customization *types.CustomizationSpec
	// vAppProperties are set on the VM once it exists (bootstrap.vAppConfig).
	vAppProperties map[string]string
	// classConfig is what the class's configSpec adds to the clone.
	classConfig *types.VirtualMachineConfigSpec
	userdata    []byte
	disks       []diskRequest // one per volume
	// diskChanges add the volumes' disks to the image's devices and
	// diskConfig records which is which (extraConfig).
	diskChanges []types.BaseVirtualDeviceConfigSpec
	diskConfig  []types.BaseOptionValue
}

func (r *Reconciler) resolveClass(ctx context.Context, vm *vmopv1.VirtualMachine) (*vmopv1.VirtualMachineClass, error) {
	if vm.Spec.ClassName == "" {
		return nil, badInput(vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineClassNameMissingReason, "spec.className is required")
	}
	class := &vmopv1.VirtualMachineClass{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: vm.Spec.ClassName}, class)
	if apierrors.IsNotFound(err) {
		return nil, badInput(vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineNotFoundReason,
			"spec.className: VirtualMachineClass %q does not exist in namespace %s", vm.Spec.ClassName, vm.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get VirtualMachineClass %s: %w", vm.Spec.ClassName, err)
	}
	if class.Spec.Hardware.Cpus <= 0 || class.Spec.Hardware.Memory.Value() <= 0 {
		return nil, badInput(vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineClassInvalidReason,
			"spec.className: VirtualMachineClass %q has no CPUs or memory", vm.Spec.ClassName)
	}
	return class, nil
}

func (r *Reconciler) resolveImage(ctx context.Context, vm *vmopv1.VirtualMachine) (vmopv1.LocalObjectRef, *vmopv1.VirtualMachineImageStatus, error) {
	if vm.Spec.ImageName == "" {
		return vmopv1.LocalObjectRef{}, nil, badInput(vmopv1.VirtualMachineConditionImageReady, vmopv1.VirtualMachineImageNameMissingReason, "spec.imageName is required")
	}
	ns := &vmopv1.VirtualMachineImage{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: vm.Spec.ImageName}, ns)
	if err == nil {
		return vmopv1.LocalObjectRef{APIVersion: vmopv1.GroupVersion.String(), Kind: "VirtualMachineImage", Name: ns.Name}, &ns.Status, nil
	}
	if !apierrors.IsNotFound(err) {
		return vmopv1.LocalObjectRef{}, nil, fmt.Errorf("failed to get VirtualMachineImage %s: %w", vm.Spec.ImageName, err)
	}
	cluster := &vmopv1.ClusterVirtualMachineImage{}
	err = r.Client.Get(ctx, client.ObjectKey{Name: vm.Spec.ImageName}, cluster)
	if apierrors.IsNotFound(err) {
		return vmopv1.LocalObjectRef{}, nil, badInput(vmopv1.VirtualMachineConditionImageReady, vmopv1.VirtualMachineNotFoundReason,
			"spec.imageName: neither VirtualMachineImage nor ClusterVirtualMachineImage %q exists", vm.Spec.ImageName)
	}
	if err != nil {
		return vmopv1.LocalObjectRef{}, nil, fmt.Errorf("failed to get ClusterVirtualMachineImage %s: %w", vm.Spec.ImageName, err)
	}
	return vmopv1.LocalObjectRef{APIVersion: vmopv1.GroupVersion.String(), Kind: "ClusterVirtualMachineImage", Name: cluster.Name}, &cluster.Status, nil
}

func (r *Reconciler) resolveDatastore(ctx context.Context, vm *vmopv1.VirtualMachine) (types.ManagedObjectReference, error) {
	if vm.Spec.StorageClass == "" {
		return types.ManagedObjectReference{}, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineStorageClassMissingReason, "spec.storageClass is required")
	}
	return r.classDatastore(ctx, "spec.storageClass", vm.Spec.StorageClass, "")
}

// classDatastore finds the datastore a StorageClass names. Bad input is
// reported against field; of says whose class it is, if not the VM's.
func (r *Reconciler) classDatastore(ctx context.Context, field, class, of string) (types.ManagedObjectReference, error) {
	sc := &storagev1.StorageClass{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: class}, sc)
	if apierrors.IsNotFound(err) {
		return types.ManagedObjectReference{}, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineNotFoundReason,
			"%s: StorageClass %q%s does not exist", field, class, of)
	}
	if err != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("failed to get StorageClass %s: %w", class, err)
	}
	url := sc.Parameters[StorageClassDatastoreURLParameter]
	if url == "" {
		return types.ManagedObjectReference{}, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineStorageNoDatastoreReason,
			"%s: StorageClass %q%s has no %s parameter", field, sc.Name, of, StorageClassDatastoreURLParameter)
	}
	ds, err := r.vcenter.DatastoreByURL(ctx, url)
	if errors.Is(err, inventory.ErrNotFound) {
		return types.ManagedObjectReference{}, badInput(vmopv1.VirtualMachineConditionStorageReady, vmopv1.VirtualMachineStorageDatastoreNotFoundReason,
			"%s: StorageClass %q%s names datastore %s, which vCenter does not have", field, sc.Name, of, url)
	}
	return ds, err
}

// namespaceNetworks are the WorkloadNetworks a vSphere Namespace's VMs may
// use, the first being the default (none: any, the default being the
// VM service's).
func (r *Reconciler) namespaceNetworks(ctx context.Context, namespace string) ([]string, error) {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	v := ns.Annotations[vspherev1.NamespaceNetworksAnnotation]
	if v == "" {
		return nil, nil
	}
	return strings.Split(v, ","), nil
}

func (r *Reconciler) resolveUserData(ctx context.Context, vm *vmopv1.VirtualMachine) ([]byte, error) {
	if vm.Spec.Bootstrap == nil || vm.Spec.Bootstrap.CloudInit == nil {
		return nil, nil
	}
	ci := vm.Spec.Bootstrap.CloudInit
	if ci.CloudConfig != nil {
		return r.renderCloudConfig(ctx, vm, ci.CloudConfig, ci.SSHAuthorizedKeys)
	}
	if ci.RawCloudConfig == nil {
		if len(ci.SSHAuthorizedKeys) > 0 {
			return sshKeysUserData(ci.SSHAuthorizedKeys), nil
		}
		return nil, nil
	}
	const field = "spec.bootstrap.cloudInit.rawCloudConfig"
	secret, err := r.secret(ctx, vm, field, ci.RawCloudConfig.Name)
	if err != nil {
		return nil, err
	}
	key := ci.RawCloudConfig.Key
	if key == "" {
		key = "user-data"
	}
	data, ok := secret.Data[key]
	if !ok {
		return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapKeyNotFoundReason, "%s.key: Secret %q has no key %q", field, secret.Name, key)
	}
	if key == guestinfoUserdata {
		// vSphere 7's ExtraConfig transport: the data are guestinfo keys,
		// the user data encoded as guestinfo.userdata.encoding says.
		if data, err = decodeGuestinfo(data, string(secret.Data[guestinfoUserdataEncoding])); err != nil {
			return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapInvalidCloudConfigReason,
				"%s: Secret %q key %s is not %s: %v", field, secret.Name, key, secret.Data[guestinfoUserdataEncoding], err)
		}
	}
	if err := validateUserData(data); err != nil {
		return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapInvalidCloudConfigReason, "%s: the data in Secret %q key %q %v", field, secret.Name, key, err)
	}
	if len(ci.SSHAuthorizedKeys) > 0 {
		return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapConflictReason, "spec.bootstrap.cloudInit.sshAuthorizedKeys: may not be set with rawCloudConfig")
	}
	return data, nil
}

// resolveImageContent finds the vCenter VM the image is cloned from.
func (r *Reconciler) resolveImageContent(ctx context.Context, status *vmopv1.VirtualMachineImageStatus, plan *createPlan, name string) (*inventory.Image, error) {
	if status.ProviderItemID == "" {
		return nil, badInput(vmopv1.VirtualMachineConditionImageReady, vmopv1.VirtualMachineImageNotReadyReason, "spec.imageName: image %q has no content in vCenter yet", name)
	}
	switch status.Type {
	case vmopv1.ImageTypeVM:
		return r.vcenter.TemplateImage(ctx, status.ProviderItemID)
	case vmopv1.ImageTypeOVF, "":
		if plan.network == nil {
			return nil, badInput(vmopv1.VirtualMachineConditionImageReady, vmopv1.VirtualMachineImageNoNetworkReason, "spec.network.disabled: an OVF image needs a network to deploy onto")
		}
		return r.vcenter.LibraryImage(ctx, status.ProviderItemID, plan.network.Spec.PortGroup, plan.datastore)
	}
	return nil, badInput(vmopv1.VirtualMachineConditionImageReady, vmopv1.VirtualMachineImageUnsupportedTypeReason, "spec.imageName: image %q has type %q; OVF and VM are supported", name, status.Type)
}
