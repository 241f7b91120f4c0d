package v1alpha1

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// vSphere 7 VM service manifests, one per transport.
var v1alpha1Manifests = map[string]string{
	"OvfEnv": `
apiVersion: vmoperator.vmware.com/v1alpha1
kind: VirtualMachine
metadata: {name: ovf, namespace: ns}
spec:
  imageName: ubuntu-20-1633387055202
  className: best-effort-small
  powerState: poweredOn
  storageClass: wcp-storage
  networkInterfaces:
  - networkType: vsphere-distributed
    networkName: primary
  vmMetadata:
    configMapName: ovf-cm
    transport: OvfEnv
`,
	"CloudInit": `
apiVersion: vmoperator.vmware.com/v1alpha1
kind: VirtualMachine
metadata: {name: ci, namespace: ns}
spec:
  imageName: ubuntu-20
  className: best-effort-small
  powerState: poweredOn
  storageClass: wcp-storage
  networkInterfaces:
  - networkType: vsphere-distributed
  vmMetadata:
    secretName: ci-secret
    transport: CloudInit
  readinessProbe:
    tcpSocket: {port: 22}
  ports:
  - {port: 22, ip: "", name: ssh, protocol: TCP}
  volumes:
  - name: boot
    vSphereVolume:
      deviceKey: 2000
      capacity: {ephemeral-storage: 40Gi}
`,
	"ExtraConfig": `
apiVersion: vmoperator.vmware.com/v1alpha1
kind: VirtualMachine
metadata: {name: ec, namespace: ns}
spec:
  imageName: photon
  className: best-effort-small
  powerState: poweredOff
  powerOffMode: trySoft
  vmMetadata:
    secretName: ec-secret
    transport: ExtraConfig
`,
}

func TestV1alpha1VirtualMachineRoundTrips(t *testing.T) {
	for name, manifest := range v1alpha1Manifests {
		t.Run(name, func(t *testing.T) {
			in := &VirtualMachine{}
			if err := yaml.UnmarshalStrict([]byte(manifest), in); err != nil {
				t.Fatal(err)
			}
			in.Status = VirtualMachineStatus{PowerState: VirtualMachinePoweredOn, VmIp: "10.0.0.5", Phase: Created,
				Conditions: []Condition{{Type: vmopv1.VirtualMachineConditionCreated, Status: "True", Reason: "Ready"}}}
			hub := &vmopv1.VirtualMachine{}
			if err := in.DeepCopy().ConvertTo(hub); err != nil {
				t.Fatal(err)
			}
			if hub.Spec.PowerState == "" || hub.Spec.Bootstrap == nil || hub.Status.Network.PrimaryIP4 != "10.0.0.5" {
				t.Fatalf("hub lacks what v1alpha1 said: %+v", hub)
			}
			back := &VirtualMachine{}
			if err := back.ConvertFrom(hub.DeepCopy()); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(in.Spec, back.Spec) || !equality.Semantic.DeepEqual(in.Status, back.Status) {
				a, _ := yaml.Marshal(in)
				b, _ := yaml.Marshal(back)
				t.Fatalf("round trip lost something:\n%s\n---\n%s", a, b)
			}
		})
	}
}

func TestTransportsMapAsVMOperatorDoes(t *testing.T) {
	hubOf := func(name string) *vmopv1.VirtualMachine {
		in := &VirtualMachine{}
		if err := yaml.UnmarshalStrict([]byte(v1alpha1Manifests[name]), in); err != nil {
			t.Fatal(err)
		}
		hub := &vmopv1.VirtualMachine{}
		if err := in.ConvertTo(hub); err != nil {
			t.Fatal(err)
		}
		return hub
	}
	ovf := hubOf("OvfEnv")
	if b := ovf.Spec.Bootstrap; b.LinuxPrep == nil || b.VAppConfig == nil || b.VAppConfig.RawProperties != "ovf-cm" || ovf.Annotations[vmopv1.ConfigMapTransportAnnotation] == "" {
		t.Errorf("OvfEnv: want linuxPrep and vApp properties from ConfigMap ovf-cm, got %+v %v", b, ovf.Annotations)
	}
	if n := ovf.Spec.Network.Interfaces[0]; n.Name != "eth0" || n.Network.Name != "primary" || n.Network.Kind != "Network" {
		t.Errorf("OvfEnv: interface %+v", n)
	}
	ci := hubOf("CloudInit")
	if r := ci.Spec.Bootstrap.CloudInit.RawCloudConfig; r == nil || r.Name != "ci-secret" || r.Key != "user-data" {
		t.Errorf("CloudInit: want rawCloudConfig ci-secret/user-data, got %+v", r)
	}
	if ci.Spec.Advanced == nil || ci.Spec.Advanced.BootDiskCapacity.Cmp(resource.MustParse("40Gi")) != 0 {
		t.Errorf("CloudInit: want the boot disk vSphereVolume as bootDiskCapacity, got %+v", ci.Spec.Advanced)
	}
	if ci.Spec.ReadinessProbe == nil || ci.Spec.ReadinessProbe.TCPSocket.Port != intstr.FromInt(22) {
		t.Errorf("CloudInit: readiness probe %+v", ci.Spec.ReadinessProbe)
	}
	ec := hubOf("ExtraConfig")
	if r := ec.Spec.Bootstrap.CloudInit.RawCloudConfig; r == nil || r.Key != "guestinfo.userdata" {
		t.Errorf("ExtraConfig: want rawCloudConfig key guestinfo.userdata, got %+v", r)
	}
	if ec.Spec.PowerState != vmopv1.VirtualMachinePowerStateOff || ec.Spec.PowerOffMode != "TrySoft" {
		t.Errorf("ExtraConfig: power %s %s", ec.Spec.PowerState, ec.Spec.PowerOffMode)
	}
}

func TestV1alpha2VirtualMachineRoundTrips(t *testing.T) {
	hub := &vmopv1.VirtualMachine{
		ObjectMeta: metav1.ObjectMeta{Name: "rich", Namespace: "ns"},
		Spec: vmopv1.VirtualMachineSpec{
			ImageName: "ubuntu", ClassName: "small", StorageClass: "wcp",
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{
				CloudConfig: &vmopv1.CloudConfig{Timezone: "UTC", Users: []vmopv1.CloudConfigUser{{Name: "me"}}}}},
			Network: &vmopv1.VirtualMachineNetworkSpec{HostName: "h", Interfaces: []vmopv1.VirtualMachineNetworkInterfaceSpec{
				{Name: "eth0", Addresses: []string{"10.0.0.5/24"}, Gateway4: "10.0.0.1"}, {Name: "eth1", DHCP4: true},
			}},
			ReadinessProbe: &vmopv1.VirtualMachineReadinessProbeSpec{GuestInfo: []vmopv1.GuestInfoAction{{Key: "ready"}}},
		},
		Status: vmopv1.VirtualMachineStatus{PowerState: vmopv1.VirtualMachinePowerStateOn,
			Network: &vmopv1.VirtualMachineNetworkStatus{PrimaryIP4: "10.0.0.5"}},
	}
	spoke := &VirtualMachine{}
	if err := spoke.ConvertFrom(hub.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if spoke.Status.VmIp != "10.0.0.5" || len(spoke.Spec.NetworkInterfaces) != 2 || spoke.Annotations[HubDataAnnotation] == "" {
		t.Fatalf("v1alpha1 form: %+v", spoke)
	}
	back := &vmopv1.VirtualMachine{}
	if err := spoke.ConvertTo(back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(hub.Spec, back.Spec) || !equality.Semantic.DeepEqual(hub.Status, back.Status) || len(back.Annotations) != 0 {
		a, _ := yaml.Marshal(hub)
		b, _ := yaml.Marshal(back)
		t.Fatalf("round trip lost something:\n%s\n---\n%s", a, b)
	}

	// An edit through v1alpha1 wins over the stored copy, and keeps what
	// v1alpha1 cannot say.
	spoke.Spec.ClassName = "large"
	spoke.Spec.PowerState = VirtualMachinePoweredOff
	back = &vmopv1.VirtualMachine{}
	if err := spoke.ConvertTo(back); err != nil {
		t.Fatal(err)
	}
	if back.Spec.ClassName != "large" || back.Spec.PowerState != vmopv1.VirtualMachinePowerStateOff {
		t.Errorf("the v1alpha1 edit was undone: %s %s", back.Spec.ClassName, back.Spec.PowerState)
	}
	if back.Spec.Bootstrap == nil || back.Spec.Bootstrap.CloudInit == nil || back.Spec.Bootstrap.CloudInit.CloudConfig == nil ||
		len(back.Spec.Network.Interfaces) != 2 || back.Spec.Network.Interfaces[0].Addresses[0] != "10.0.0.5/24" || back.Spec.ReadinessProbe.GuestInfo == nil {
		t.Errorf("an edit through v1alpha1 lost what only v1alpha2 says: %+v", back.Spec)
	}
}
