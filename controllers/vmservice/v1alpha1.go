package vmservice

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	vmopv1alpha1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha1"
)

// +kubebuilder:webhook:path=/validate-vmoperator-vmware-com-v1alpha1-virtualmachine,mutating=false,failurePolicy=fail,sideEffects=None,matchPolicy=Exact,groups=vmoperator.vmware.com,resources=virtualmachines,verbs=create;update,versions=v1alpha1,name=validate.v1alpha1.virtualmachine.vmoperator.vmware.com,admissionReviewVersions=v1

// V1alpha1VirtualMachineValidator refuses, with v1alpha1's field paths,
// what v1alpha1 can say and the VM service does not do (everything else
// is checked in its v1alpha2 form by VirtualMachineValidator); ports, which
// vm-operator never acted on either, draw a warning.
type V1alpha1VirtualMachineValidator struct{}

var _ admission.Validator[*vmopv1alpha1.VirtualMachine] = &V1alpha1VirtualMachineValidator{}

// ValidateCreate checks a new v1alpha1 VirtualMachine.
func (v *V1alpha1VirtualMachineValidator) ValidateCreate(_ context.Context, vm *vmopv1alpha1.VirtualMachine) (admission.Warnings, error) {
	warnings, errs := validateV1alpha1(vm)
	return warnings, invalid("VirtualMachine", vm.Name, errs)
}

// ValidateUpdate checks a changed v1alpha1 VirtualMachine.
func (v *V1alpha1VirtualMachineValidator) ValidateUpdate(_ context.Context, _, vm *vmopv1alpha1.VirtualMachine) (admission.Warnings, error) {
	if !vm.DeletionTimestamp.IsZero() {
		return nil, nil
	}
	warnings, errs := validateV1alpha1(vm)
	return warnings, invalid("VirtualMachine", vm.Name, errs)
}

// ValidateDelete allows every delete.
func (v *V1alpha1VirtualMachineValidator) ValidateDelete(context.Context, *vmopv1alpha1.VirtualMachine) (admission.Warnings, error) {
	return nil, nil
}

func validateV1alpha1(vm *vmopv1alpha1.VirtualMachine) (admission.Warnings, field.ErrorList) {
	var warnings admission.Warnings
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if len(vm.Spec.Ports) > 0 {
		warnings = append(warnings, "spec.ports: informational only (vm-operator never acted on it); expose the VM with a VirtualMachineService")
	}
	for i, nic := range vm.Spec.NetworkInterfaces {
		p := spec.Child("networkInterfaces").Index(i)
		if nic.NetworkType != "" && nic.NetworkType != "vsphere-distributed" {
			errs = append(errs, field.NotSupported(p.Child("networkType"), nic.NetworkType, []string{"vsphere-distributed"}))
		}
		if nic.ProviderRef != nil {
			errs = append(errs, field.Forbidden(p.Child("providerRef"), "this supervisor has no network interface providers; name the network in networkName"))
		}
		if nic.EthernetCardType != "" && nic.EthernetCardType != "vmxnet3" {
			errs = append(errs, field.NotSupported(p.Child("ethernetCardType"), nic.EthernetCardType, []string{"vmxnet3"}))
		}
	}
	for i, v := range vm.Spec.Volumes {
		p := spec.Child("volumes").Index(i)
		if vv := v.VsphereVolume; vv != nil {
			if vv.DeviceKey == nil || *vv.DeviceKey != 2000 {
				errs = append(errs, field.Forbidden(p.Child("vSphereVolume"), "only the boot disk (deviceKey 2000) can be resized; add disks as persistentVolumeClaim volumes"))
			} else if len(vv.Capacity) == 0 {
				errs = append(errs, field.Required(p.Child("vSphereVolume", "capacity"), "the boot disk's ephemeral-storage"))
			}
		}
		if v.PersistentVolumeClaim == nil && v.VsphereVolume == nil {
			errs = append(errs, field.Required(p, "one of persistentVolumeClaim and vSphereVolume"))
		}
	}
	if a := vm.Spec.AdvancedOptions; a != nil {
		p := spec.Child("advancedOptions")
		if a.ChangeBlockTracking != nil && *a.ChangeBlockTracking {
			errs = append(errs, field.Forbidden(p.Child("changeBlockTracking"), "this VM service does not enable changed block tracking"))
		}
		if o := a.DefaultVolumeProvisioningOptions; o != nil {
			if (o.ThinProvisioned != nil && !*o.ThinProvisioned) || (o.EagerZeroed != nil && *o.EagerZeroed) {
				errs = append(errs, field.Forbidden(p.Child("defaultVolumeProvisioningOptions"), "this VM service provisions volumes thin"))
			}
		}
	}
	if md := vm.Spec.VmMetadata; md != nil && md.ConfigMapName != "" && md.SecretName != "" {
		errs = append(errs, field.Forbidden(spec.Child("vmMetadata", "secretName"), "may not be set with configMapName"))
	}
	if vm.Spec.ResourcePolicyName != "" {
		errs = append(errs, field.Forbidden(spec.Child("resourcePolicyName"), resourcePolicyRefusal))
	}
	return warnings, errs
}

// resourcePolicyRefusal says why a resource policy is refused.
var resourcePolicyRefusal = fmt.Sprintf("this supervisor serves no VirtualMachineSetResourcePolicy: %s", "VMs are placed in the namespace's folder and resource pool")
