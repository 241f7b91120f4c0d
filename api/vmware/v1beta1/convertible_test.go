package v1beta1_test

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	clusterv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	utilconversion "sigs.k8s.io/cluster-api/util/conversion"
	"sigs.k8s.io/controller-runtime/pkg/conversion"
	"sigs.k8s.io/randfill"
	"sigs.k8s.io/yaml"

	"github.com/open-supervisor/supervisor/api/vmware/v1beta1"
	"github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// TestFuzzyConversion is CAPV's fuzz test without its exemptions: here
// status.vmIp, spec.failureDomain, status.resourcePolicyName and a
// ProviderServiceAccount's status survive storage too.
func TestFuzzyConversion(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1beta2.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	dropOurs := func(o conversion.Convertible) {
		a := o.(metav1.Object).GetAnnotations()
		delete(a, v1beta1.HubDataAnnotation)
	}
	for _, c := range []struct {
		name  string
		hub   conversion.Hub
		spoke conversion.Convertible
	}{
		{"VSphereCluster", &v1beta2.VSphereCluster{}, &v1beta1.VSphereCluster{}},
		{"VSphereClusterTemplate", &v1beta2.VSphereClusterTemplate{}, &v1beta1.VSphereClusterTemplate{}},
		{"VSphereMachine", &v1beta2.VSphereMachine{}, &v1beta1.VSphereMachine{}},
		{"VSphereMachineTemplate", &v1beta2.VSphereMachineTemplate{}, &v1beta1.VSphereMachineTemplate{}},
		{"ProviderServiceAccount", &v1beta2.ProviderServiceAccount{}, &v1beta1.ProviderServiceAccount{}},
	} {
		t.Run(c.name, utilconversion.FuzzTestFunc(utilconversion.FuzzTestFuncInput{
			Scheme: scheme, Hub: c.hub, Spoke: c.spoke, SpokeAfterMutation: dropOurs,
			FuzzerFuncs: []fuzzer.FuzzerFuncs{jsonSafe},
		}))
	}
}

// jsonSafe fills what JSON cannot carry verbatim with values it can: the
// API server stores JSON, so nothing else reaches a conversion.
func jsonSafe(_ runtimeserializer.CodecFactory) []any {
	return []any{
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1<<40), resource.BinarySI)
		},
		func(l *corev1.ResourceList, c randfill.Continue) {
			if c.Bool() {
				*l = corev1.ResourceList{corev1.ResourceStorage: *resource.NewQuantity(c.Int63n(1<<40), resource.BinarySI)}
			}
		},
	}
}

// capvMachine is a VSphereMachine as CAPV v1.15 writes it.
const capvMachine = `
apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
kind: VSphereMachine
metadata:
  name: guest-cp-abcde
  namespace: ns1
  labels:
    cluster.x-k8s.io/cluster-name: guest
spec:
  providerID: vsphere://4203c3b4-1f5e-4ad0-8b6a-7c1f1b0e2f11
  failureDomain: zone-a
  imageName: ubuntu-2204-kube-v1.30.1
  className: best-effort-small
  storageClass: wcpglobal-storage-profile
  powerOffMode: trySoft
  minHardwareVersion: vmx-17
  namingStrategy:
    template: '{{ .machine.name }}'
  volumes:
  - name: etcd
    capacity:
      storage: 4Gi
status:
  ready: true
  vmID: 4203c3b4-1f5e-4ad0-8b6a-7c1f1b0e2f11
  vmIp: 192.168.128.21
  vmstatus: ready
  addresses:
  - type: InternalIP
    address: 192.168.128.21
  conditions:
  - type: Ready
    status: "True"
    lastTransitionTime: "2024-05-01T10:00:00Z"
  - type: VMProvisioned
    status: "True"
    lastTransitionTime: "2024-05-01T10:00:00Z"
`

// TestCAPVMachineKeepsEverything: a VSphereMachine written as v1beta1 reads
// back identical, and as v1beta2 carries CAPV main's names for the same facts.
func TestCAPVMachineKeepsEverything(t *testing.T) {
	in := &v1beta1.VSphereMachine{}
	if err := yaml.UnmarshalStrict([]byte(capvMachine), in); err != nil {
		t.Fatal(err)
	}
	hub := &v1beta2.VSphereMachine{}
	if err := in.ConvertTo(hub); err != nil {
		t.Fatal(err)
	}
	if hub.Status.BiosUUID != "4203c3b4-1f5e-4ad0-8b6a-7c1f1b0e2f11" || hub.Status.Phase != v1beta2.VSphereMachinePhaseReady ||
		hub.Status.Initialization.Provisioned == nil || !*hub.Status.Initialization.Provisioned || hub.Spec.Naming.Template != "{{ .machine.name }}" {
		t.Errorf("v1beta2 status = %+v, naming %+v; want biosUUID, phase Ready, provisioned and the naming template", hub.Status, hub.Spec.Naming)
	}
	if len(hub.Status.Deprecated.V1Beta1.Conditions) != 2 {
		t.Errorf("v1beta1 conditions not kept under status.deprecated.v1beta1: %+v", hub.Status.Deprecated)
	}
	out := &v1beta1.VSphereMachine{}
	if err := out.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	in.TypeMeta = metav1.TypeMeta{}
	if !equality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip lost something:\nin  %+v\nout %+v", in, out)
	}
}

// TestV1Beta1ReadersSeeVMIP: a machine the provider writes as v1beta2 reads
// as v1beta1 with vmIp, vmID, ready and vmstatus, as CAPV v1.15 showed them.
func TestV1Beta1ReadersSeeVMIP(t *testing.T) {
	hub := &v1beta2.VSphereMachine{
		ObjectMeta: metav1.ObjectMeta{Name: "m", Namespace: "ns1"},
		Status: v1beta2.VSphereMachineStatus{
			Initialization: v1beta2.VSphereMachineInitializationStatus{Provisioned: new(true)},
			Addresses:      []clusterv1.MachineAddress{{Type: clusterv1.MachineHostName, Address: "m"}, {Type: clusterv1.MachineInternalIP, Address: "10.0.0.7"}},
			BiosUUID:       "uuid-1",
			Phase:          v1beta2.VSphereMachinePhaseReady,
		},
	}
	out := &v1beta1.VSphereMachine{}
	if err := out.ConvertFrom(hub.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if out.Status.IPAddr != "10.0.0.7" || out.Status.ID == nil || *out.Status.ID != "uuid-1" || !out.Status.Ready || out.Status.VMStatus != v1beta1.VirtualMachineStateReady {
		t.Errorf("v1beta1 status = %+v; want vmIp 10.0.0.7, vmID uuid-1, ready, vmstatus ready", out.Status)
	}
	back := &v1beta2.VSphereMachine{}
	if err := out.ConvertTo(back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(hub, back) {
		t.Errorf("hub round trip lost something:\nin  %+v\nout %+v", hub, back)
	}
}

// TestStaleSpokeDataIsNotRestored: once a v1beta2 writer changes the object,
// what a v1beta1 writer said earlier gives way.
func TestStaleSpokeDataIsNotRestored(t *testing.T) {
	in := &v1beta1.VSphereCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "c"},
		Status:     v1beta1.VSphereClusterStatus{ResourcePolicyName: "policy", Conditions: clusterv1beta1.Conditions{{Type: "Ready", Status: corev1.ConditionTrue}}},
	}
	hub := &v1beta2.VSphereCluster{}
	if err := in.ConvertTo(hub); err != nil {
		t.Fatal(err)
	}
	if _, ok := hub.Annotations[v1beta1.SpokeDataAnnotation]; !ok {
		t.Fatalf("resourcePolicyName, which v1beta2 lacks, was not kept: %v", hub.Annotations)
	}
	hub.Spec.ControlPlaneEndpoint = v1beta2.APIEndpoint{Host: "10.0.0.1", Port: 6443}
	out := &v1beta1.VSphereCluster{}
	if err := out.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	if out.Spec.ControlPlaneEndpoint.Host != "10.0.0.1" || out.Status.ResourcePolicyName != "" {
		t.Errorf("got endpoint %+v, resourcePolicyName %q; want the hub's endpoint and no stale spoke data", out.Spec.ControlPlaneEndpoint, out.Status.ResourcePolicyName)
	}
	if reflect.DeepEqual(out.Status.Conditions, clusterv1beta1.Conditions(nil)) {
		t.Errorf("v1beta1 conditions were lost on the way through status.deprecated")
	}
}
