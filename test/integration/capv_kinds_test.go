package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
	"github.com/open-supervisor/supervisor/test/harness"
)

// capvManifests are the vmware.infrastructure.cluster.x-k8s.io/v1beta1
// objects CAPV v1.15 clients write (clusterctl templates, ClusterClasses of
// the supervisor flavor), one of each kind. The VSphereCluster carries the
// empty controlPlaneEndpoint every v1beta1 client sends.
var capvManifests = []string{`
apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
kind: VSphereCluster
metadata:
  name: capv
spec:
  controlPlaneEndpoint:
    host: ""
    port: 0
`, `
apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
kind: VSphereClusterTemplate
metadata:
  name: capv
spec:
  template:
    spec:
      controlPlaneEndpoint:
        host: ""
        port: 0
`, `
apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
kind: VSphereMachineTemplate
metadata:
  name: capv-worker
spec:
  template:
    spec:
      className: best-effort-small
      imageName: ubuntu-2204-kube-v1.30.1
      storageClass: wcpglobal-storage-profile
      powerOffMode: hard
      namingStrategy:
        template: '{{ .machine.name }}'
      volumes:
      - name: containerd
        capacity:
          storage: 20Gi
`, `
apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
kind: VSphereMachine
metadata:
  name: capv-cp-0
spec:
  className: best-effort-small
  imageName: ubuntu-2204-kube-v1.30.1
  storageClass: wcpglobal-storage-profile
  powerOffMode: trySoft
`, `
apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
kind: ProviderServiceAccount
metadata:
  name: capv-csi
spec:
  ref:
    apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1
    kind: VSphereCluster
    name: capv
  rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "list", "watch"]
  targetNamespace: vmware-system-csi
  targetSecretName: pvcsi-provider-creds
`}

// CAPV-shaped v1beta1 manifests apply with strict field validation, read
// back as v1beta1 exactly as written, and as v1beta2 (the storage version)
// with CAPV main's field names; written back as v1beta2 they still read
// the same as v1beta1.
func TestCAPVKindsApplyAndRoundTrip(t *testing.T) {
	h := harness.New(t, harness.Options{})
	ctx := context.Background()
	strict := client.FieldValidation("Strict")
	read := func(u *unstructured.Unstructured, version string) *unstructured.Unstructured {
		t.Helper()
		out := &unstructured.Unstructured{}
		out.SetAPIVersion(vmwarev1.GroupVersion.Group + "/" + version)
		out.SetKind(u.GetKind())
		if err := h.Client.Get(ctx, client.ObjectKeyFromObject(u), out); err != nil {
			t.Fatalf("reading %s %s as %s: %v", u.GetKind(), u.GetName(), version, err)
		}
		return out
	}
	for _, m := range capvManifests {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(m), &u.Object); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(h.Namespace)
		sent := u.DeepCopy()
		if err := h.Client.Create(ctx, u, strict); err != nil {
			t.Errorf("applying a CAPV %s: %v", u.GetKind(), err)
			continue
		}
		asV1beta1 := read(u, "v1beta1")
		if !sameJSON(t, asV1beta1.Object["spec"], sent.Object["spec"]) {
			t.Errorf("%s reads back as v1beta1 with spec\n%v\nwant\n%v", u.GetKind(), asV1beta1.Object["spec"], sent.Object["spec"])
		}
		for k := range asV1beta1.GetAnnotations() {
			if strings.Contains(k, "conversion-data") && u.GetKind() != "VSphereMachineTemplate" {
				t.Errorf("%s as v1beta1 shows conversion annotation %s although nothing needs keeping", u.GetKind(), k)
			}
		}
		asV1beta2 := read(u, "v1beta2")
		// Written back unchanged as v1beta2 (as CAPV main and Cluster API
		// write), the object still reads as it was written.
		if err := h.Client.Update(ctx, asV1beta2, strict); err != nil {
			t.Errorf("writing %s back as v1beta2: %v", u.GetKind(), err)
		}
		if again := read(u, "v1beta1"); !sameJSON(t, again.Object["spec"], sent.Object["spec"]) {
			t.Errorf("%s after a v1beta2 write reads as v1beta1 with spec\n%v\nwant\n%v", u.GetKind(), again.Object["spec"], sent.Object["spec"])
		}
	}

	// v1beta2 says the same with CAPV main's names.
	tmpl := &vmwarev1.VSphereMachineTemplate{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: "capv-worker"}, tmpl); err != nil {
		t.Fatal(err)
	}
	spec := tmpl.Spec.Template.Spec
	if spec.Naming.Template != "{{ .machine.name }}" || spec.ClassName != "best-effort-small" || len(spec.Volumes) != 1 {
		t.Errorf("VSphereMachineTemplate as v1beta2: %+v", spec)
	}
	psa := &vmwarev1.ProviderServiceAccount{}
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: "capv-csi"}, psa); err != nil {
		t.Fatal(err)
	}
	if psa.Spec.Ref == nil || psa.Spec.Ref.Name != "capv" || psa.Spec.TargetSecretName != "pvcsi-provider-creds" || len(psa.Spec.Rules) != 1 {
		t.Errorf("ProviderServiceAccount as v1beta2: %+v", psa.Spec)
	}

	// What this supervisor cannot do is refused, naming the field, in
	// either version.
	for _, c := range []struct{ manifest, field string }{
		{"spec:\n  className: c\n  imageName: i\n  policies:\n  - kind: ComputePolicy\n    name: p\n", "spec.policies"},
		{"spec:\n  className: c\n  imageName: i\n  network:\n    interfaces:\n      primary:\n        mtu: 1500\n", "spec.network"},
		{"spec:\n  className: c\n  imageName: i\n  namingStrategy:\n    template: '{{ .machine.name }}-x'\n", "spec.namingStrategy"},
		{"spec:\n  className: c\n  imageName: i\n  failureDomain: zone-b\n", "spec.failureDomain"},
		{"spec:\n  className: c\n  imageName: i\n  minHardwareVersion: vmx-17\n", "spec.minHardwareVersion"},
	} {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte("apiVersion: vmware.infrastructure.cluster.x-k8s.io/v1beta1\nkind: VSphereMachine\nmetadata:\n  name: refused\n"+c.manifest), &u.Object); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(h.Namespace)
		err := h.Client.Create(ctx, u, strict)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("a VSphereMachine with %s: %v; want it refused naming the field", c.field, err)
			_ = h.Client.Delete(ctx, u)
		}
	}
	nsx := &vmwarev1.VSphereCluster{}
	nsx.Namespace, nsx.Name = h.Namespace, "nsx"
	nsx.Spec.Network.Provider = "NSXTier1"
	if err := h.Client.Create(ctx, nsx); err == nil || !strings.Contains(err.Error(), "spec.network.provider") {
		t.Errorf("a VSphereCluster on NSX: %v; want it refused naming spec.network.provider", err)
	}

	// Status written as v1beta1 (CAPV v1.15's controller, a script) is kept
	// in storage, fields v1beta2 lacks (vmIp) included.
	m := &unstructured.Unstructured{}
	m.SetAPIVersion(vmwarev1.GroupVersion.Group + "/v1beta1")
	m.SetKind("VSphereMachine")
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: "capv-cp-0"}, m); err != nil {
		t.Fatal(err)
	}
	status := map[string]any{"ready": true, "vmIp": "10.244.0.9", "vmID": "4203c3b4", "vmstatus": "ready",
		"addresses": []any{map[string]any{"type": "InternalIP", "address": "10.244.0.9"}}}
	m.Object["status"] = status
	if err := h.Client.Status().Update(ctx, m, strict); err != nil {
		t.Fatalf("writing a v1beta1 status: %v", err)
	}
	back := read(m, "v1beta1")
	if !sameJSON(t, back.Object["status"], status) {
		t.Errorf("v1beta1 status reads back as %v, want %v", back.Object["status"], status)
	}
	machine := &vmwarev1.VSphereMachine{}
	if err := h.Client.Get(ctx, client.ObjectKeyFromObject(m), machine); err != nil {
		t.Fatal(err)
	}
	if machine.Status.BiosUUID != "4203c3b4" || machine.Status.Phase != vmwarev1.VSphereMachinePhaseReady ||
		machine.Status.Initialization.Provisioned == nil || !*machine.Status.Initialization.Provisioned {
		t.Errorf("v1beta2 status %+v; want biosUUID 4203c3b4, phase Ready, provisioned", machine.Status)
	}
}

// sameJSON compares two decoded JSON values whatever number types their
// decoders chose.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
