package vmservice

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	vmopv1alpha1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/vmconfigspec"
)

// +kubebuilder:webhook:path=/mutate-vmoperator-vmware-com-v1alpha2-virtualmachine,mutating=true,failurePolicy=fail,sideEffects=None,matchPolicy=Equivalent,groups=vmoperator.vmware.com,resources=virtualmachines,verbs=create;update,versions=v1alpha2,name=default.v1alpha2.virtualmachine.vmoperator.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-vmoperator-vmware-com-v1alpha2-virtualmachine,mutating=false,failurePolicy=fail,sideEffects=None,matchPolicy=Equivalent,groups=vmoperator.vmware.com,resources=virtualmachines,verbs=create;update,versions=v1alpha2,name=validate.v1alpha2.virtualmachine.vmoperator.vmware.com,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-vmoperator-vmware-com-v1alpha2-virtualmachineclass,mutating=false,failurePolicy=fail,sideEffects=None,matchPolicy=Equivalent,groups=vmoperator.vmware.com,resources=virtualmachineclasses,verbs=create;update,versions=v1alpha2,name=validate.v1alpha2.virtualmachineclass.vmoperator.vmware.com,admissionReviewVersions=v1

// ResolveOSImageAnnotation asks vSphere to pick a VM's image by OS; this
// VM service does not, so a VirtualMachine carrying it is refused.
const ResolveOSImageAnnotation = "run.tanzu.vmware.com/resolve-os-image"

// nextRestartNow is the spec.nextRestartTime value that asks for a restart now.
const nextRestartNow = "now"

// SetupWebhooks registers the VM service's admission webhooks and the
// conversion of its kinds (v1alpha1 through the v1alpha2 hub).
func SetupWebhooks(mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &vmopv1.VirtualMachine{}).
		WithDefaulter(&VirtualMachineDefaulter{Now: time.Now}).
		WithValidator(&VirtualMachineValidator{}).
		Complete(); err != nil {
		return fmt.Errorf("VirtualMachine webhooks: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &vmopv1alpha1.VirtualMachine{}).
		WithValidator(&V1alpha1VirtualMachineValidator{}).
		Complete(); err != nil {
		return fmt.Errorf("v1alpha1 VirtualMachine webhook: %w", err)
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &vmopv1.VirtualMachineClass{}).
		WithValidator(&VirtualMachineClassValidator{}).
		Complete(); err != nil {
		return fmt.Errorf("VirtualMachineClass webhook: %w", err)
	}
	// Conversion only (v1alpha1 <-> v1alpha2): the builder serves /convert
	// for every kind with a hub.
	for _, obj := range []client.Object{&vmopv1.VirtualMachineService{}, &vmopv1.VirtualMachineImage{}, &vmopv1.ClusterVirtualMachineImage{}} {
		if err := ctrl.NewWebhookManagedBy(mgr, obj).Complete(); err != nil {
			return fmt.Errorf("conversion webhook of %T: %w", obj, err)
		}
	}
	return nil
}

// VirtualMachineDefaulter writes the time in place of nextRestartTime
// "now", as vm-operator does, so that each request is one restart, and
// gives a new VirtualMachine the VM service's finalizer.
type VirtualMachineDefaulter struct {
	Now func() time.Time
}

var _ admission.Defaulter[*vmopv1.VirtualMachine] = &VirtualMachineDefaulter{}

// Default replaces nextRestartTime "now" with the current time, and on
// create adds the finalizer. Set here, it comes with the create rather
// than as the reconciler's second write of every new VM, which cost the
// API server a request, two webhook calls and a conversion, and woke a
// second reconcile before the clone could start.
func (d *VirtualMachineDefaulter) Default(ctx context.Context, vm *vmopv1.VirtualMachine) error {
	if vm.Spec.NextRestartTime == nextRestartNow {
		vm.Spec.NextRestartTime = d.Now().UTC().Format(time.RFC3339Nano)
	}
	if req, err := admission.RequestFromContext(ctx); err == nil && req.Operation == admissionv1.Create {
		controllerutil.AddFinalizer(vm, vmopv1.VirtualMachineFinalizer)
	}
	return nil
}

// VirtualMachineValidator refuses what the VM service cannot act on.
type VirtualMachineValidator struct{}

var _ admission.Validator[*vmopv1.VirtualMachine] = &VirtualMachineValidator{}

// ValidateCreate checks a new VirtualMachine.
func (v *VirtualMachineValidator) ValidateCreate(_ context.Context, vm *vmopv1.VirtualMachine) (admission.Warnings, error) {
	return nil, invalid(vm.GroupVersionKind().Kind, vm.Name, ValidateVirtualMachine(vm))
}

// ValidateUpdate checks a changed VirtualMachine.
func (v *VirtualMachineValidator) ValidateUpdate(_ context.Context, _, vm *vmopv1.VirtualMachine) (admission.Warnings, error) {
	if !vm.DeletionTimestamp.IsZero() {
		return nil, nil // finalizer removal must go through
	}
	return nil, invalid("VirtualMachine", vm.Name, ValidateVirtualMachine(vm))
}

// ValidateDelete allows every delete.
func (v *VirtualMachineValidator) ValidateDelete(context.Context, *vmopv1.VirtualMachine) (admission.Warnings, error) {
	return nil, nil
}

// VirtualMachineClassValidator refuses hardware this supervisor's hosts do
// not have and configSpec fields the VM service does not apply.
type VirtualMachineClassValidator struct{}

var _ admission.Validator[*vmopv1.VirtualMachineClass] = &VirtualMachineClassValidator{}

// ValidateCreate checks a new class.
func (v *VirtualMachineClassValidator) ValidateCreate(_ context.Context, c *vmopv1.VirtualMachineClass) (admission.Warnings, error) {
	return nil, invalid("VirtualMachineClass", c.Name, ValidateVirtualMachineClass(c))
}

// ValidateUpdate checks a changed class.
func (v *VirtualMachineClassValidator) ValidateUpdate(_ context.Context, _, c *vmopv1.VirtualMachineClass) (admission.Warnings, error) {
	return nil, invalid("VirtualMachineClass", c.Name, ValidateVirtualMachineClass(c))
}

// ValidateDelete allows every delete.
func (v *VirtualMachineClassValidator) ValidateDelete(context.Context, *vmopv1.VirtualMachineClass) (admission.Warnings, error) {
	return nil, nil
}

func invalid(kind, name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	if kind == "" {
		kind = "VirtualMachine"
	}
	return apierrors.NewInvalid(vmopv1.GroupVersion.WithKind(kind).GroupKind(), name, errs)
}

// ValidateVirtualMachineClass refuses passthrough devices and instance
// storage (this supervisor's hosts have neither) and configSpec fields the
// VM service does not apply.
func ValidateVirtualMachineClass(c *vmopv1.VirtualMachineClass) field.ErrorList {
	var errs field.ErrorList
	hw := field.NewPath("spec", "hardware")
	if d := c.Spec.Hardware.Devices; len(d.VGPUDevices) > 0 || len(d.DynamicDirectPathIODevices) > 0 {
		errs = append(errs, field.Forbidden(hw.Child("devices"), "this supervisor's hosts have no vGPU or DirectPath I/O devices to pass through"))
	}
	if is := c.Spec.Hardware.InstanceStorage; is.StorageClass != "" || len(is.Volumes) > 0 {
		errs = append(errs, field.Forbidden(hw.Child("instanceStorage"), "this supervisor's hosts have no instance storage (host-local disks for VMs); give VMs volumes instead"))
	}
	if len(c.Spec.ConfigSpec) > 0 {
		p := field.NewPath("spec", "configSpec")
		_, refused, err := vmconfigspec.Check(c.Spec.ConfigSpec)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(p, "(omitted)", err.Error()))
		case len(refused) > 0:
			for _, f := range refused {
				errs = append(errs, field.Forbidden(p.Child(f), fmt.Sprintf("the VM service applies only %v of a class's configSpec", vmconfigspec.Applied)))
			}
		}
	}
	return errs
}

// ValidateVirtualMachine refuses what the VM service would not act on.
func ValidateVirtualMachine(vm *vmopv1.VirtualMachine) field.ErrorList {
	var errs field.ErrorList
	if _, ok := vm.Annotations[ResolveOSImageAnnotation]; ok {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(ResolveOSImageAnnotation),
			"this VM service does not pick images by OS; name the image in spec.imageName"))
	}
	spec := field.NewPath("spec")
	errs = append(errs, validateBootstrap(vm.Spec.Bootstrap, spec.Child("bootstrap"))...)
	errs = append(errs, validateNetwork(vm.Spec.Network, spec.Child("network"))...)
	errs = append(errs, validateReadiness(vm.Spec.ReadinessProbe, spec.Child("readinessProbe"))...)
	if t := vm.Spec.NextRestartTime; t != "" && t != nextRestartNow {
		if _, err := time.Parse(time.RFC3339Nano, t); err != nil {
			errs = append(errs, field.Invalid(spec.Child("nextRestartTime"), t, `must be "now" or an RFC3339 time`))
		}
	}
	if r := vm.Spec.Reserved; r != nil && r.ResourcePolicyName != "" {
		errs = append(errs, field.Forbidden(spec.Child("reserved", "resourcePolicyName"), resourcePolicyRefusal))
	}
	if a := vm.Spec.Advanced; a != nil && a.BootDiskCapacity != nil && a.BootDiskCapacity.Sign() <= 0 {
		errs = append(errs, field.Invalid(spec.Child("advanced", "bootDiskCapacity"), a.BootDiskCapacity.String(), "must be more than zero"))
	}
	return errs
}

func validateBootstrap(b *vmopv1.VirtualMachineBootstrapSpec, p *field.Path) field.ErrorList {
	if b == nil {
		return nil
	}
	var errs field.ErrorList
	if b.CloudInit != nil && (b.LinuxPrep != nil || b.Sysprep != nil) {
		errs = append(errs, field.Forbidden(p.Child("cloudInit"), "may not be set with linuxPrep or sysprep: the guest is bootstrapped one way"))
	}
	if b.LinuxPrep != nil && b.Sysprep != nil {
		errs = append(errs, field.Forbidden(p.Child("sysprep"), "may not be set with linuxPrep: a guest is Linux or Windows"))
	}
	if ci := b.CloudInit; ci != nil && ci.CloudConfig != nil && ci.RawCloudConfig != nil {
		errs = append(errs, field.Forbidden(p.Child("cloudInit", "rawCloudConfig"), "may not be set with cloudConfig"))
	}
	if sp := b.Sysprep; sp != nil && (sp.Sysprep == nil) == (sp.RawSysprep == nil) {
		errs = append(errs, field.Required(p.Child("sysprep"), "exactly one of sysprep and rawSysprep"))
	}
	if va := b.VAppConfig; va != nil {
		for i, prop := range va.Properties {
			if prop.Value.From != nil && prop.Value.Value != nil {
				errs = append(errs, field.Forbidden(p.Child("vAppConfig", "properties").Index(i).Child("value"), "one of from and value"))
			}
		}
	}
	return errs
}

func validateNetwork(n *vmopv1.VirtualMachineNetworkSpec, p *field.Path) field.ErrorList {
	if n == nil {
		return nil
	}
	var errs field.ErrorList
	if n.Disabled && len(n.Interfaces) > 0 {
		errs = append(errs, field.Forbidden(p.Child("interfaces"), "may not be set when network.disabled is true"))
	}
	errs = append(errs, validateIPs(n.Nameservers, p.Child("nameservers"))...)
	names := map[string]bool{}
	ranged := map[string]int{} // network -> interface taking an address from its range
	for i, ifc := range n.Interfaces {
		ip := p.Child("interfaces").Index(i)
		if names[ifc.Name] {
			errs = append(errs, field.Duplicate(ip.Child("name"), ifc.Name))
		}
		names[ifc.Name] = true
		for j, a := range ifc.Addresses {
			if _, err := netip.ParsePrefix(a); err != nil {
				errs = append(errs, field.Invalid(ip.Child("addresses").Index(j), a, "must be an address in CIDR notation, e.g. 192.168.1.10/24"))
			}
		}
		if len(ifc.Addresses) == 0 && !ifc.DHCP4 {
			if other, ok := ranged[ifc.Network.Name]; ok {
				errs = append(errs, field.Invalid(ip.Child("addresses"), ifc.Addresses,
					fmt.Sprintf("interfaces[%d] already takes this network's address from its range; give this one addresses or dhcp4", other)))
			}
			ranged[ifc.Network.Name] = i
		}
		if len(ifc.Addresses) > 0 && ifc.DHCP4 {
			errs = append(errs, field.Forbidden(ip.Child("dhcp4"), "may not be set with addresses"))
		}
		errs = append(errs, validateGateway(ifc.Gateway4, true, ip.Child("gateway4"))...)
		errs = append(errs, validateGateway(ifc.Gateway6, false, ip.Child("gateway6"))...)
		if ifc.MTU != nil && (*ifc.MTU < 68 || *ifc.MTU > 9000) {
			errs = append(errs, field.Invalid(ip.Child("mtu"), *ifc.MTU, "must be between 68 and 9000"))
		}
		errs = append(errs, validateIPs(ifc.Nameservers, ip.Child("nameservers"))...)
		for j, r := range ifc.Routes {
			rp := ip.Child("routes").Index(j)
			if _, err := netip.ParsePrefix(r.To); err != nil && r.To != "default" {
				errs = append(errs, field.Invalid(rp.Child("to"), r.To, `must be a CIDR or "default"`))
			}
			if _, err := netip.ParseAddr(r.Via); err != nil {
				errs = append(errs, field.Invalid(rp.Child("via"), r.Via, "must be an IP address"))
			}
		}
	}
	return errs
}

func validateGateway(gw string, v4 bool, p *field.Path) field.ErrorList {
	if gw == "" || gw == "None" {
		return nil
	}
	a, err := netip.ParseAddr(gw)
	if err != nil || a.Is4() != v4 {
		family := "IPv6"
		if v4 {
			family = "IPv4"
		}
		return field.ErrorList{field.Invalid(p, gw, "must be an "+family+` address or "None"`)}
	}
	return nil
}

func validateIPs(ips []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range ips {
		if _, err := netip.ParseAddr(s); err != nil {
			errs = append(errs, field.Invalid(p.Index(i), s, "must be an IP address"))
		}
	}
	return errs
}

func validateReadiness(r *vmopv1.VirtualMachineReadinessProbeSpec, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	if r.TCPSocket != nil {
		n++
		port := r.TCPSocket.Port
		if port.Type == intstr.String {
			if _, err := strconv.Atoi(port.StrVal); err != nil {
				errs = append(errs, field.Invalid(p.Child("tcpSocket", "port"), port.StrVal, "must be a port number: a VM has no named ports"))
			}
		} else if port.IntVal < 1 || port.IntVal > 65535 {
			errs = append(errs, field.Invalid(p.Child("tcpSocket", "port"), port.IntVal, "must be between 1 and 65535"))
		}
	}
	if r.GuestHeartbeat != nil {
		n++
	}
	if len(r.GuestInfo) > 0 {
		n++
		for i, gi := range r.GuestInfo {
			if _, err := regexp.Compile(gi.Value); err != nil {
				errs = append(errs, field.Invalid(p.Child("guestInfo").Index(i).Child("value"), gi.Value, "must be a regular expression: "+err.Error()))
			}
		}
	}
	if n != 1 {
		errs = append(errs, field.Invalid(p, "", "exactly one of tcpSocket, guestHeartbeat and guestInfo"))
	}
	return errs
}
