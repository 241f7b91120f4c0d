package virtualmachine

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"

	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/vmconfigspec"
)

// secret reads a Secret of the VM's namespace (a ConfigMap for a v1alpha1
// VM whose vmMetadata named one); a missing one is bad input reported
// against field.
func (r *Reconciler) secret(ctx context.Context, vm *vmopv1.VirtualMachine, field, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	var err error
	kind := "Secret"
	if _, ok := vm.Annotations[vmopv1.ConfigMapTransportAnnotation]; ok {
		kind = "ConfigMap"
		cm := &corev1.ConfigMap{}
		if err = r.APIReader.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: name}, cm); err == nil {
			secret.Name, secret.Data = cm.Name, map[string][]byte{}
			for k, v := range cm.Data {
				secret.Data[k] = []byte(v)
			}
			maps.Copy(secret.Data, cm.BinaryData)
		}
	} else {
		err = r.APIReader.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: name}, secret)
	}
	if apierrors.IsNotFound(err) {
		return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapSecretNotFoundReason, "%s.name: %s %q does not exist", field, kind, name)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get bootstrap %s %s: %w", kind, name, err)
	}
	return secret, nil
}

// decodeGuestinfo decodes guestinfo data in an encoding cloud-init's VMware
// datasource reads: none, base64 (b64) or gzip+base64 (gz+b64).
func decodeGuestinfo(data []byte, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		return data, nil
	case "base64", "b64":
		return base64.StdEncoding.DecodeString(string(data))
	case "gzip+base64", "gz+b64":
		raw, err := base64.StdEncoding.DecodeString(string(data))
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return nil, fmt.Errorf("an encoding cloud-init reads (base64, gzip+base64)")
}

// secretValue reads the key a selector names.
func (r *Reconciler) secretValue(ctx context.Context, vm *vmopv1.VirtualMachine, field string, sel *vmopv1.SecretKeySelector) (string, error) {
	secret, err := r.secret(ctx, vm, field, sel.Name)
	if err != nil {
		return "", err
	}
	v, ok := secret.Data[sel.Key]
	if !ok {
		return "", badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapKeyNotFoundReason, "%s.key: Secret %q has no key %q", field, sel.Name, sel.Key)
	}
	return string(v), nil
}

// renderCloudConfig renders spec.bootstrap.cloudInit.cloudConfig as the
// #cloud-config document vm-operator renders, secrets resolved: users
// (with "default" first when defaultUserEnabled), runcmd, write_files,
// timezone and ssh_pwauth.
func (r *Reconciler) renderCloudConfig(ctx context.Context, vm *vmopv1.VirtualMachine, cc *vmopv1.CloudConfig, sshKeys []string) ([]byte, error) {
	const field = "spec.bootstrap.cloudInit.cloudConfig"
	doc := map[string]any{}
	if cc.Timezone != "" {
		doc["timezone"] = cc.Timezone
	}
	if cc.SSHPwdAuth != nil {
		doc["ssh_pwauth"] = *cc.SSHPwdAuth
	}
	var users []any
	if cc.DefaultUserEnabled {
		users = append(users, "default")
	}
	for i, u := range cc.Users {
		user, err := toMap(u)
		if err != nil {
			return nil, err
		}
		for _, k := range []struct {
			key string
			sel *vmopv1.SecretKeySelector
		}{{"passwd", u.Passwd}, {"hashed_passwd", u.HashedPasswd}} {
			if k.sel == nil {
				continue
			}
			v, err := r.secretValue(ctx, vm, fmt.Sprintf("%s.users[%d].%s", field, i, k.key), k.sel)
			if err != nil {
				return nil, err
			}
			user[k.key] = v
		}
		users = append(users, user)
	}
	if len(users) > 0 {
		doc["users"] = users
	}
	if len(cc.RunCmd) > 0 {
		var runcmd any
		if err := json.Unmarshal(cc.RunCmd, &runcmd); err != nil {
			return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapInvalidCloudConfigReason, "%s.runcmd: %v", field, err)
		}
		doc["runcmd"] = runcmd
	}
	var files []any
	for i, f := range cc.WriteFiles {
		file, err := toMap(f)
		if err != nil {
			return nil, err
		}
		if len(f.Content) > 0 {
			var content any
			if err := json.Unmarshal(f.Content, &content); err != nil {
				return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapInvalidCloudConfigReason, "%s.write_files[%d].content: %v", field, i, err)
			}
			if m, ok := content.(map[string]any); ok {
				// {name, key}: the content is a Secret's.
				name, _ := m["name"].(string)
				key, _ := m["key"].(string)
				v, err := r.secretValue(ctx, vm, fmt.Sprintf("%s.write_files[%d].content", field, i), &vmopv1.SecretKeySelector{Name: name, Key: key})
				if err != nil {
					return nil, err
				}
				content = v
			}
			file["content"] = content
		}
		files = append(files, file)
	}
	if len(files) > 0 {
		doc["write_files"] = files
	}
	if len(sshKeys) > 0 {
		doc["ssh_authorized_keys"] = sshKeys
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", field, err)
	}
	return append([]byte("#cloud-config\n"), b...), nil
}

// toMap is v's JSON form as a map, without the fields that hold secrets'
// selectors (the caller puts the values in).
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "passwd")
	delete(m, "hashed_passwd")
	delete(m, "content")
	return m, nil
}

// resolveCustomization builds the guest customization linuxPrep or sysprep
// asks for, secrets resolved; nil when neither is set. The NICs' settings
// are added by withNICSettings once the addresses are known.
func (r *Reconciler) resolveCustomization(ctx context.Context, vm *vmopv1.VirtualMachine) (*types.CustomizationSpec, error) {
	b := vm.Spec.Bootstrap
	if b == nil || (b.LinuxPrep == nil && b.Sysprep == nil) {
		return nil, nil
	}
	spec := &types.CustomizationSpec{}
	if vm.Spec.Network != nil {
		spec.GlobalIPSettings = types.CustomizationGlobalIPSettings{DnsSuffixList: vm.Spec.Network.SearchDomains, DnsServerList: vm.Spec.Network.Nameservers}
	}
	name := &types.CustomizationFixedName{Name: hostName(vm)}
	if lp := b.LinuxPrep; lp != nil {
		spec.Identity = &types.CustomizationLinuxPrep{HostName: name, Domain: "local", TimeZone: lp.TimeZone, HwClockUTC: lp.HardwareClockIsUTC}
		return spec, nil
	}
	const field = "spec.bootstrap.sysprep"
	sp := b.Sysprep
	if sp.RawSysprep != nil {
		xml, err := r.secretValue(ctx, vm, field+".rawSysprep", sp.RawSysprep)
		if err != nil {
			return nil, err
		}
		spec.Identity = &types.CustomizationSysprepText{Value: xml}
		return spec, nil
	}
	if sp.Sysprep == nil {
		return nil, badInput(vmopv1.VirtualMachineConditionBootstrapReady, vmopv1.VirtualMachineBootstrapConflictReason, "%s: one of sysprep and rawSysprep is required", field)
	}
	in := sp.Sysprep
	out := &types.CustomizationSysprep{
		UserData: types.CustomizationUserData{ComputerName: name},
	}
	if in.UserData != nil {
		out.UserData.FullName, out.UserData.OrgName = in.UserData.FullName, in.UserData.OrgName
		if in.UserData.ProductID != nil {
			v, err := r.secretValue(ctx, vm, field+".sysprep.userData.productID", in.UserData.ProductID)
			if err != nil {
				return nil, err
			}
			out.UserData.ProductId = v
		}
	}
	if u := in.GUIUnattended; u != nil {
		out.GuiUnattended = types.CustomizationGuiUnattended{AutoLogon: u.AutoLogon, AutoLogonCount: u.AutoLogonCount, TimeZone: u.TimeZone}
		if u.Password != nil {
			v, err := r.secretValue(ctx, vm, field+".sysprep.guiUnattended.password", u.Password)
			if err != nil {
				return nil, err
			}
			out.GuiUnattended.Password = &types.CustomizationPassword{Value: v, PlainText: true}
		}
	}
	if id := in.Identification; id != nil {
		out.Identification = types.CustomizationIdentification{JoinWorkgroup: id.JoinWorkgroup, JoinDomain: id.JoinDomain, DomainAdmin: id.DomainAdmin, DomainOU: id.DomainOU}
		if id.DomainAdminPassword != nil {
			v, err := r.secretValue(ctx, vm, field+".sysprep.identification.domainAdminPassword", id.DomainAdminPassword)
			if err != nil {
				return nil, err
			}
			out.Identification.DomainAdminPassword = &types.CustomizationPassword{Value: v, PlainText: true}
		}
	}
	if len(in.GUIRunOnce.Commands) > 0 {
		out.GuiRunOnce = &types.CustomizationGuiRunOnce{CommandList: in.GUIRunOnce.Commands}
	}
	if l := in.LicenseFilePrintData; l != nil {
		out.LicenseFilePrintData = &types.CustomizationLicenseFilePrintData{AutoMode: types.CustomizationLicenseDataMode(l.AutoMode)}
		if l.AutoUsers != nil {
			out.LicenseFilePrintData.AutoUsers = *l.AutoUsers
		}
	}
	spec.Identity = out
	return spec, nil
}

// withNICSettings gives the customization one adapter mapping per NIC, in
// NIC order, as vCenter requires: fixed addresses where the VM has them,
// DHCP otherwise.
func withNICSettings(spec *types.CustomizationSpec, nws []*guestNetwork, _ string) *types.CustomizationSpec {
	out := *spec
	out.NicSettingMap = nil
	for _, nw := range nws {
		adapter := types.CustomizationIPSettings{Ip: &types.CustomizationDhcpIpGenerator{}, DnsServerList: nw.Nameservers}
		for _, a := range nw.Addresses {
			if a.Addr().Is4() {
				adapter.Ip = &types.CustomizationFixedIp{IpAddress: a.Addr().String()}
				adapter.SubnetMask = net4Mask(a)
				break
			}
		}
		if nw.Gateway4 != "" && nw.Gateway4 != "None" {
			adapter.Gateway = []string{nw.Gateway4}
		}
		out.NicSettingMap = append(out.NicSettingMap, types.CustomizationAdapterMapping{Adapter: adapter})
	}
	return &out
}

func net4Mask(p netip.Prefix) string {
	m := uint32(0xffffffff) << (32 - p.Bits())
	if p.Bits() == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// resolveVAppProperties reads the vApp properties bootstrap.vAppConfig
// sets: each of properties (inline or from a Secret key), or every key of
// the rawProperties Secret. nil when vAppConfig is not set.
func (r *Reconciler) resolveVAppProperties(ctx context.Context, vm *vmopv1.VirtualMachine) (map[string]string, error) {
	if vm.Spec.Bootstrap == nil || vm.Spec.Bootstrap.VAppConfig == nil {
		return nil, nil
	}
	const field = "spec.bootstrap.vAppConfig"
	va := vm.Spec.Bootstrap.VAppConfig
	props := map[string]string{}
	if va.RawProperties != "" {
		secret, err := r.secret(ctx, vm, field+".rawProperties", va.RawProperties)
		if err != nil {
			return nil, err
		}
		for k, v := range secret.Data {
			props[k] = string(v)
		}
	}
	for i, p := range va.Properties {
		switch {
		case p.Value.From != nil:
			v, err := r.secretValue(ctx, vm, fmt.Sprintf("%s.properties[%d].value.from", field, i), p.Value.From)
			if err != nil {
				return nil, err
			}
			props[p.Key] = v
		case p.Value.Value != nil:
			props[p.Key] = *p.Value.Value
		default:
			props[p.Key] = ""
		}
	}
	return props, nil
}

// vAppPropertyChanges sets props on a VM whose vApp properties are have:
// an edit for a key the image declares, an add for one it does not (the
// Ubuntu OVA declares user-data and hostname; a simulator's clone declares
// none). Keys already at their value are left alone.
func vAppPropertyChanges(have []types.VAppPropertyInfo, props map[string]string) *types.VmConfigSpec {
	byKey := map[string]types.VAppPropertyInfo{}
	nextKey := int32(0)
	for _, p := range have {
		byKey[p.Id] = p
		nextKey = max(nextKey, p.Key+1)
	}
	spec := &types.VmConfigSpec{}
	for _, id := range slices.Sorted(maps.Keys(props)) {
		v := props[id]
		if p, ok := byKey[id]; ok {
			if p.Value == v {
				continue
			}
			p.Value = v
			spec.Property = append(spec.Property, types.VAppPropertySpec{ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationEdit}, Info: &p})
			continue
		}
		spec.Property = append(spec.Property, types.VAppPropertySpec{
			ArrayUpdateSpec: types.ArrayUpdateSpec{Operation: types.ArrayUpdateOperationAdd},
			Info:            &types.VAppPropertyInfo{Key: nextKey, Id: id, Type: "string", Value: v, UserConfigurable: types.NewBool(true)},
		})
		nextKey++
	}
	if len(spec.Property) == 0 {
		return nil
	}
	spec.OvfEnvironmentTransport = []string{"com.vmware.guestInfo"}
	return spec
}

// classConfigSpec reads the class's configSpec (checked by the webhook).
func classConfigSpec(class *vmopv1.VirtualMachineClass) (*types.VirtualMachineConfigSpec, error) {
	if len(class.Spec.ConfigSpec) == 0 {
		return nil, nil
	}
	spec, refused, err := vmconfigspec.Check(class.Spec.ConfigSpec)
	if err != nil {
		return nil, badInput(vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineClassInvalidReason, "spec.className: VirtualMachineClass %q spec.configSpec %v", class.Name, err)
	}
	if len(refused) > 0 {
		return nil, badInput(vmopv1.VirtualMachineConditionClassReady, vmopv1.VirtualMachineClassInvalidReason, "spec.className: VirtualMachineClass %q spec.configSpec has fields this VM service does not apply: %v", class.Name, refused)
	}
	return spec, nil
}

// mergeClassConfig applies the class's configSpec to the clone's: its
// extraConfig, added devices, annotation and firmware.
func mergeClassConfig(into, class *types.VirtualMachineConfigSpec) {
	if class == nil {
		return
	}
	into.ExtraConfig = append(into.ExtraConfig, class.ExtraConfig...)
	for i, c := range class.DeviceChange {
		dc := *c.GetVirtualDeviceConfigSpec()
		if d := dc.Device.GetVirtualDevice(); d.Key >= 0 {
			d.Key = int32(-200 - i) // a new device's key is vCenter's to pick
		}
		into.DeviceChange = append(into.DeviceChange, &dc)
	}
	if class.Annotation != "" {
		into.Annotation = class.Annotation
	}
	if class.Firmware != "" {
		into.Firmware = class.Firmware
	}
}
