package v1alpha1

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/conversion"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// Secret keys each vmMetadata transport's data is read from, as vm-operator
// converts them: ExtraConfig's guestinfo keys, CloudInit's user-data.
const (
	extraConfigUserDataKey = "guestinfo.userdata"
	cloudInitUserDataKey   = "user-data"
	sysprepUnattendKey     = "unattend"
)

// networkTypeKinds maps v1alpha1 network types to v1alpha2 network kinds.
var networkTypeKinds = map[string]vmopv1.PartialObjectRef{
	"vsphere-distributed": {APIVersion: "netoperator.vmware.com/v1alpha1", Kind: "Network"},
	"nsx-t":               {APIVersion: "vmware.com/v1alpha1", Kind: "VirtualNetwork"},
	"nsx-t-subnet":        {APIVersion: "crd.nsx.vmware.com/v1alpha1", Kind: "Subnet"},
	"nsx-t-subnetset":     {APIVersion: "crd.nsx.vmware.com/v1alpha1", Kind: "SubnetSet"},
}

type vmState = state[VirtualMachineSpec, VirtualMachineStatus]
type hubVMState = state[vmopv1.VirtualMachineSpec, vmopv1.VirtualMachineStatus]

// ConvertTo converts this VirtualMachine to the hub.
func (src *VirtualMachine) ConvertTo(dstRaw conversion.Hub) error {
	dst := dstRaw.(*vmopv1.VirtualMachine)
	configMap := src.Spec.VmMetadata != nil && src.Spec.VmMetadata.ConfigMapName != "" && src.Spec.VmMetadata.SecretName == ""
	down := func(in hubVMState) vmState { return vmDownWith(in, configMap) }
	out, ann, err := convertKeepingData(vmState{src.Spec, src.Status}, src.Annotations, HubDataAnnotation, SpokeDataAnnotation, vmUp, down)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	if configMap {
		// v1alpha2 names bootstrap Secrets only; this says it is a ConfigMap.
		if dst.Annotations == nil {
			dst.Annotations = map[string]string{}
		}
		dst.Annotations[vmopv1.ConfigMapTransportAnnotation] = "true"
	}
	return err
}

// ConvertFrom converts the hub to this VirtualMachine.
func (dst *VirtualMachine) ConvertFrom(srcRaw conversion.Hub) error {
	src := srcRaw.(*vmopv1.VirtualMachine)
	_, configMap := src.Annotations[vmopv1.ConfigMapTransportAnnotation]
	down := func(in hubVMState) vmState { return vmDownWith(in, configMap) }
	out, ann, err := convertKeepingData(hubVMState{src.Spec, src.Status}, src.Annotations, SpokeDataAnnotation, HubDataAnnotation, down, vmUp)
	dst.ObjectMeta, dst.Spec, dst.Status = src.ObjectMeta, out.Spec, out.Status
	dst.Annotations = ann
	return err
}

// vmUp converts v1alpha1 to v1alpha2 as vm-operator does.
func vmUp(in vmState) hubVMState {
	s := in.Spec
	out := hubVMState{Spec: vmopv1.VirtualMachineSpec{
		ImageName:          s.ImageName,
		ClassName:          s.ClassName,
		StorageClass:       s.StorageClass,
		PowerState:         powerStateUp(s.PowerState),
		PowerOffMode:       powerOpModeUp(s.PowerOffMode),
		SuspendMode:        powerOpModeUp(s.SuspendMode),
		RestartMode:        powerOpModeUp(s.RestartMode),
		NextRestartTime:    s.NextRestartTime,
		MinHardwareVersion: s.MinHardwareVersion,
		Bootstrap:          bootstrapUp(s.VmMetadata),
	}}
	if s.ResourcePolicyName != "" {
		out.Spec.Reserved = &vmopv1.VirtualMachineReservedSpec{ResourcePolicyName: s.ResourcePolicyName}
	}
	if len(s.NetworkInterfaces) > 0 {
		out.Spec.Network = &vmopv1.VirtualMachineNetworkSpec{}
		for i, nic := range s.NetworkInterfaces {
			ifc := vmopv1.VirtualMachineNetworkInterfaceSpec{Name: fmt.Sprintf("eth%d", i)}
			if nic.NetworkName != "" || nic.NetworkType != "" {
				ifc.Network = networkTypeKinds[nic.NetworkType]
				ifc.Network.Name = nic.NetworkName
			}
			out.Spec.Network.Interfaces = append(out.Spec.Network.Interfaces, ifc)
		}
	}
	for _, v := range s.Volumes {
		if v.PersistentVolumeClaim != nil {
			out.Spec.Volumes = append(out.Spec.Volumes, vmopv1.VirtualMachineVolume{Name: v.Name,
				PersistentVolumeClaim: &vmopv1.PersistentVolumeClaimVolumeSource{PersistentVolumeClaimVolumeSource: v.PersistentVolumeClaim.PersistentVolumeClaimVolumeSource}})
		}
	}
	if q := bootDiskCapacity(s.Volumes); q != nil {
		out.Spec.Advanced = &vmopv1.VirtualMachineAdvancedSpec{BootDiskCapacity: q}
	}
	if p := s.ReadinessProbe; p != nil {
		out.Spec.ReadinessProbe = &vmopv1.VirtualMachineReadinessProbeSpec{TimeoutSeconds: p.TimeoutSeconds, PeriodSeconds: p.PeriodSeconds}
		if p.TCPSocket != nil {
			out.Spec.ReadinessProbe.TCPSocket = &vmopv1.TCPSocketAction{Port: p.TCPSocket.Port, Host: p.TCPSocket.Host}
		}
		if p.GuestHeartbeat != nil {
			out.Spec.ReadinessProbe.GuestHeartbeat = &vmopv1.GuestHeartbeatAction{ThresholdStatus: vmopv1.GuestHeartbeatStatus(p.GuestHeartbeat.ThresholdStatus)}
		}
	}

	st := in.Status
	out.Status = vmopv1.VirtualMachineStatus{
		Host:            st.Host,
		PowerState:      powerStateUp(st.PowerState),
		Conditions:      convertConditionsUp(st.Conditions),
		UniqueID:        st.UniqueID,
		BiosUUID:        st.BiosUUID,
		InstanceUUID:    st.InstanceUUID,
		LastRestartTime: st.LastRestartTime,
	}
	if st.VmIp != "" || len(st.NetworkInterfaces) > 0 {
		out.Status.Network = &vmopv1.VirtualMachineNetworkStatus{}
		if strings.Contains(st.VmIp, ":") {
			out.Status.Network.PrimaryIP6 = st.VmIp
		} else {
			out.Status.Network.PrimaryIP4 = st.VmIp
		}
		for _, nic := range st.NetworkInterfaces {
			ifc := vmopv1.VirtualMachineNetworkInterfaceStatus{IP: &vmopv1.VirtualMachineNetworkInterfaceIPStatus{MACAddr: nic.MacAddress}}
			for _, a := range nic.IpAddresses {
				ifc.IP.Addresses = append(ifc.IP.Addresses, vmopv1.VirtualMachineNetworkInterfaceIPAddrStatus{Address: a})
			}
			out.Status.Network.Interfaces = append(out.Status.Network.Interfaces, ifc)
		}
	}
	for _, v := range st.Volumes {
		out.Status.Volumes = append(out.Status.Volumes, vmopv1.VirtualMachineVolumeStatus{Name: v.Name, Attached: v.Attached, DiskUUID: v.DiskUuid, Error: v.Error})
	}
	return out
}

// vmDownWith converts v1alpha2 to v1alpha1; configMap says the bootstrap
// object is a ConfigMap.
func vmDownWith(in hubVMState, configMap bool) vmState {
	s := in.Spec
	out := vmState{Spec: VirtualMachineSpec{
		ImageName:          s.ImageName,
		ClassName:          s.ClassName,
		StorageClass:       s.StorageClass,
		PowerState:         powerStateDown(s.PowerState),
		PowerOffMode:       powerOpModeDown(s.PowerOffMode),
		SuspendMode:        powerOpModeDown(s.SuspendMode),
		RestartMode:        powerOpModeDown(s.RestartMode),
		NextRestartTime:    s.NextRestartTime,
		MinHardwareVersion: s.MinHardwareVersion,
		VmMetadata:         bootstrapDown(s.Bootstrap, configMap),
	}}
	if s.Reserved != nil {
		out.Spec.ResourcePolicyName = s.Reserved.ResourcePolicyName
	}
	if s.Network != nil {
		for _, ifc := range s.Network.Interfaces {
			nic := VirtualMachineNetworkInterface{NetworkName: ifc.Network.Name}
			for t, k := range networkTypeKinds {
				if k.Kind == ifc.Network.Kind && ifc.Network.Kind != "" {
					nic.NetworkType = t
				}
			}
			out.Spec.NetworkInterfaces = append(out.Spec.NetworkInterfaces, nic)
		}
	}
	for _, v := range s.Volumes {
		vol := VirtualMachineVolume{Name: v.Name}
		if v.PersistentVolumeClaim != nil {
			vol.PersistentVolumeClaim = &PersistentVolumeClaimVolumeSource{PersistentVolumeClaimVolumeSource: v.PersistentVolumeClaim.PersistentVolumeClaimVolumeSource}
		}
		out.Spec.Volumes = append(out.Spec.Volumes, vol)
	}
	if s.Advanced != nil && s.Advanced.BootDiskCapacity != nil {
		key := bootDiskDeviceKey
		out.Spec.Volumes = append(out.Spec.Volumes, VirtualMachineVolume{Name: "vm-boot-disk",
			VsphereVolume: &VsphereVolumeSource{DeviceKey: &key, Capacity: corev1.ResourceList{corev1.ResourceEphemeralStorage: *s.Advanced.BootDiskCapacity}}})
	}
	if p := s.ReadinessProbe; p != nil {
		out.Spec.ReadinessProbe = &Probe{TimeoutSeconds: p.TimeoutSeconds, PeriodSeconds: p.PeriodSeconds}
		if p.TCPSocket != nil {
			out.Spec.ReadinessProbe.TCPSocket = &TCPSocketAction{Port: p.TCPSocket.Port, Host: p.TCPSocket.Host}
		}
		if p.GuestHeartbeat != nil {
			out.Spec.ReadinessProbe.GuestHeartbeat = &GuestHeartbeatAction{ThresholdStatus: string(p.GuestHeartbeat.ThresholdStatus)}
		}
	}

	st := in.Status
	out.Status = VirtualMachineStatus{
		Host:            st.Host,
		PowerState:      powerStateDown(st.PowerState),
		Phase:           phase(st.Conditions),
		Conditions:      convertConditionsDown(st.Conditions),
		UniqueID:        st.UniqueID,
		BiosUUID:        st.BiosUUID,
		InstanceUUID:    st.InstanceUUID,
		LastRestartTime: st.LastRestartTime,
	}
	if n := st.Network; n != nil {
		out.Status.VmIp = n.PrimaryIP4
		if out.Status.VmIp == "" {
			out.Status.VmIp = n.PrimaryIP6
		}
		for _, ifc := range n.Interfaces {
			nic := NetworkInterfaceStatus{Connected: true}
			if ifc.IP != nil {
				nic.MacAddress = ifc.IP.MACAddr
				for _, a := range ifc.IP.Addresses {
					nic.IpAddresses = append(nic.IpAddresses, a.Address)
				}
			}
			out.Status.NetworkInterfaces = append(out.Status.NetworkInterfaces, nic)
		}
	}
	for _, v := range st.Volumes {
		out.Status.Volumes = append(out.Status.Volumes, VirtualMachineVolumeStatus{Name: v.Name, Attached: v.Attached, DiskUuid: v.DiskUUID, Error: v.Error})
	}
	return out
}

// phase is v1alpha1's phase from the Created condition, as vm-operator
// derives it (Cluster API's VM readiness checks look for Created).
func phase(conds []metav1.Condition) VMStatusPhase {
	for _, c := range conds {
		if c.Type == vmopv1.VirtualMachineConditionCreated {
			if c.Status == metav1.ConditionTrue {
				return Created
			}
			return Creating
		}
	}
	if len(conds) == 0 {
		return ""
	}
	return Unknown
}

// bootstrapUp maps vmMetadata's transports as vm-operator does: CloudInit
// and ExtraConfig to cloud-init raw data (key user-data, resp. the
// guestinfo.userdata key of the ExtraConfig transport's data), OvfEnv to
// LinuxPrep plus vApp properties from the object, vAppConfig to vApp
// properties, Sysprep to a raw unattend document.
func bootstrapUp(md *VirtualMachineMetadata) *vmopv1.VirtualMachineBootstrapSpec {
	if md == nil || *md == (VirtualMachineMetadata{}) {
		return nil
	}
	name := md.SecretName
	if name == "" {
		name = md.ConfigMapName
	}
	out := &vmopv1.VirtualMachineBootstrapSpec{}
	switch md.Transport {
	case VirtualMachineMetadataExtraConfigTransport:
		out.CloudInit = &vmopv1.VirtualMachineBootstrapCloudInitSpec{}
		if name != "" {
			out.CloudInit.RawCloudConfig = &vmopv1.SecretKeySelector{Name: name, Key: extraConfigUserDataKey}
		}
	case VirtualMachineMetadataOvfEnvTransport:
		out.LinuxPrep = &vmopv1.VirtualMachineBootstrapLinuxPrepSpec{HardwareClockIsUTC: ptrTo(true)}
		out.VAppConfig = &vmopv1.VirtualMachineBootstrapVAppConfigSpec{RawProperties: name}
	case VirtualMachineMetadataVAppConfigTransport:
		out.VAppConfig = &vmopv1.VirtualMachineBootstrapVAppConfigSpec{RawProperties: name}
	case VirtualMachineMetadataCloudInitTransport:
		out.CloudInit = &vmopv1.VirtualMachineBootstrapCloudInitSpec{}
		if name != "" {
			out.CloudInit.RawCloudConfig = &vmopv1.SecretKeySelector{Name: name, Key: cloudInitUserDataKey}
		}
	case VirtualMachineMetadataSysprepTransport:
		out.Sysprep = &vmopv1.VirtualMachineBootstrapSysprepSpec{}
		if name != "" {
			out.Sysprep.RawSysprep = &vmopv1.SecretKeySelector{Name: name, Key: sysprepUnattendKey}
		}
	}
	return out
}

func bootstrapDown(b *vmopv1.VirtualMachineBootstrapSpec, configMap bool) *VirtualMachineMetadata {
	if b == nil || *b == (vmopv1.VirtualMachineBootstrapSpec{}) {
		return nil
	}
	out := &VirtualMachineMetadata{}
	var name string
	switch {
	case b.CloudInit != nil:
		out.Transport = VirtualMachineMetadataCloudInitTransport
		if raw := b.CloudInit.RawCloudConfig; raw != nil {
			name = raw.Name
			if raw.Key == extraConfigUserDataKey {
				out.Transport = VirtualMachineMetadataExtraConfigTransport
			}
		}
	case b.Sysprep != nil:
		out.Transport = VirtualMachineMetadataSysprepTransport
		if b.Sysprep.RawSysprep != nil {
			name = b.Sysprep.RawSysprep.Name
		}
	case b.VAppConfig != nil:
		name = b.VAppConfig.RawProperties
		out.Transport = VirtualMachineMetadataVAppConfigTransport
		if b.LinuxPrep != nil {
			out.Transport = VirtualMachineMetadataOvfEnvTransport
		}
	}
	if name != "" {
		if configMap {
			out.ConfigMapName = name
		} else {
			out.SecretName = name
		}
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

func powerStateUp(s VirtualMachinePowerState) vmopv1.VirtualMachinePowerState {
	switch s {
	case VirtualMachinePoweredOn:
		return vmopv1.VirtualMachinePowerStateOn
	case VirtualMachinePoweredOff:
		return vmopv1.VirtualMachinePowerStateOff
	case VirtualMachineSuspended:
		return vmopv1.VirtualMachinePowerStateSuspended
	}
	return vmopv1.VirtualMachinePowerState(s)
}

func powerStateDown(s vmopv1.VirtualMachinePowerState) VirtualMachinePowerState {
	switch s {
	case vmopv1.VirtualMachinePowerStateOn:
		return VirtualMachinePoweredOn
	case vmopv1.VirtualMachinePowerStateOff:
		return VirtualMachinePoweredOff
	case vmopv1.VirtualMachinePowerStateSuspended:
		return VirtualMachineSuspended
	}
	return VirtualMachinePowerState(s)
}

// powerOpModeUp: hard, soft, trySoft are Hard, Soft, TrySoft.
func powerOpModeUp(m VirtualMachinePowerOpMode) string {
	if m == "" {
		return ""
	}
	return strings.ToUpper(string(m[:1])) + string(m[1:])
}

func powerOpModeDown(m string) VirtualMachinePowerOpMode {
	if m == "" {
		return ""
	}
	return VirtualMachinePowerOpMode(strings.ToLower(m[:1]) + m[1:])
}
