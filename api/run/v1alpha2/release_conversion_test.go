package v1alpha2_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/diff"
	utilconversion "sigs.k8s.io/cluster-api/util/conversion"
	"sigs.k8s.io/randfill"

	"github.com/open-supervisor/supervisor/api/run/v1alpha1"
	"github.com/open-supervisor/supervisor/api/run/v1alpha2"
	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Every served version of TanzuKubernetesRelease and TkgServiceConfiguration
// round-trips through the v1alpha3 hub without loss, whatever it holds:
// spoke → hub → spoke and hub → spoke → hub.
func TestFuzzyReleaseConversion(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{v1alpha1.AddToScheme, v1alpha2.AddToScheme, v1alpha3.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	cases := []utilconversion.FuzzTestFuncInput{
		{Scheme: scheme, Hub: &v1alpha3.TanzuKubernetesRelease{}, Spoke: &v1alpha2.TanzuKubernetesRelease{}},
		{Scheme: scheme, Hub: &v1alpha3.TanzuKubernetesRelease{}, Spoke: &v1alpha1.TanzuKubernetesRelease{}},
		{Scheme: scheme, Hub: &v1alpha3.TkgServiceConfiguration{}, Spoke: &v1alpha2.TkgServiceConfiguration{}},
		{Scheme: scheme, Hub: &v1alpha3.TkgServiceConfiguration{}, Spoke: &v1alpha1.TkgServiceConfiguration{}},
	}
	for _, in := range cases {
		in.FuzzerFuncs = []fuzzer.FuzzerFuncs{jsonSafe}
		name := fmt.Sprintf("%T", in.Spoke)
		t.Run(name, utilconversion.FuzzTestFunc(in))
	}
}

// jsonSafe fills condition times with what JSON carries (whole seconds):
// the API server stores JSON, so nothing finer reaches a conversion.
func jsonSafe(_ runtimeserializer.CodecFactory) []any {
	return []any{
		func(t *metav1.Time, c randfill.Continue) {
			*t = metav1.Unix(c.Int63n(1<<32), 0)
		},
	}
}

// A release vSphere 8 publishes (v1alpha3, two OS images, component
// images, bootstrap packages) reads in v1alpha2 with its first OS image as
// the node image and the components as images, and comes back whole.
func TestPublishedV1alpha3ReleaseThroughV1alpha2(t *testing.T) {
	hub := &v1alpha3.TanzuKubernetesRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "v1.24.9---vmware.1-tkg.4", Labels: map[string]string{"os-name": "photon"}},
		Spec: v1alpha3.TanzuKubernetesReleaseSpec{
			Version: "v1.24.9+vmware.1-tkg.4",
			Kubernetes: v1alpha3.KubernetesSpec{Version: "v1.24.9+vmware.1", ImageRepository: "localhost:5000/vmware.io",
				Etcd: &v1alpha3.ContainerImageInfo{ImageTag: "v3.5.6_vmware.3"}, CoreDNS: &v1alpha3.ContainerImageInfo{ImageTag: "v1.8.6_vmware.15"}},
			OSImages:          []corev1.LocalObjectReference{{Name: "ob-21554409-photon-3-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4"}, {Name: "ob-21552850-ubuntu-2004-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4"}},
			BootstrapPackages: []corev1.LocalObjectReference{{Name: "antrea.tanzu.vmware.com.1.7.2---vmware.1-tkg.1-advanced"}},
		},
		Status: v1alpha3.TanzuKubernetesReleaseStatus{Conditions: v1alpha3.Conditions{{Type: "Ready", Status: corev1.ConditionTrue, LastTransitionTime: metav1.Unix(1700000000, 0)}}},
	}
	spoke := &v1alpha2.TanzuKubernetesRelease{}
	if err := spoke.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	if spoke.Spec.KubernetesVersion != "v1.24.9+vmware.1" || spoke.Spec.NodeImageRef == nil ||
		spoke.Spec.NodeImageRef.Name != hub.Spec.OSImages[0].Name || spoke.Spec.NodeImageRef.Kind != "ClusterVirtualMachineImage" ||
		len(spoke.Spec.Images) != 2 || spoke.Spec.Images[0].Name != "etcd" || spoke.Spec.Images[0].Tag != "v3.5.6_vmware.3" {
		t.Errorf("v1alpha2 reads %+v", spoke.Spec)
	}
	back := &v1alpha3.TanzuKubernetesRelease{}
	if err := spoke.ConvertTo(back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(hub, back) {
		t.Errorf("round trip changed the release:\n%s", diff.Diff(hub, back))
	}

	// A change made in v1alpha2 wins over what the annotation kept.
	spoke.Spec.NodeImageRef.Name = "photon-5-amd64-v1.24.9---vmware.1-tkg.4"
	changed := &v1alpha3.TanzuKubernetesRelease{}
	if err := spoke.ConvertTo(changed); err != nil {
		t.Fatal(err)
	}
	if len(changed.Spec.OSImages) != 1 || changed.Spec.OSImages[0].Name != "photon-5-amd64-v1.24.9---vmware.1-tkg.4" {
		t.Errorf("the node image changed in v1alpha2 became OS images %+v", changed.Spec.OSImages)
	}
}

// A v1alpha2 release written by hand with what v1alpha3 cannot say (an
// image of another component, a node image of another kind) survives a
// trip through v1alpha3.
func TestHandWrittenV1alpha2ReleaseThroughV1alpha3(t *testing.T) {
	spoke := &v1alpha2.TanzuKubernetesRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "v1.18.19---vmware.1-tkg.1.17af790"},
		Spec: v1alpha2.TanzuKubernetesReleaseSpec{
			Version: "v1.18.19+vmware.1-tkg.1.17af790", KubernetesVersion: "v1.18.19", Repository: "vmware.io",
			Images:       []v1alpha2.ContainerImage{{Name: "kube-proxy", Tag: "v1.18.19_vmware.1"}, {Name: "etcd", Tag: "v3.4.13_vmware.7"}},
			NodeImageRef: &corev1.ObjectReference{Kind: "VirtualMachineImage", Name: "photon-3-k8s-v1.18.19---vmware.1-tkg.1.17af790"},
		},
	}
	hub := &v1alpha3.TanzuKubernetesRelease{}
	if err := spoke.ConvertTo(hub); err != nil {
		t.Fatal(err)
	}
	if hub.Spec.Kubernetes.Version != "v1.18.19" || hub.Spec.Kubernetes.Etcd == nil || hub.Spec.Kubernetes.Etcd.ImageTag != "v3.4.13_vmware.7" ||
		len(hub.Spec.OSImages) != 1 || hub.Spec.OSImages[0].Name != spoke.Spec.NodeImageRef.Name {
		t.Errorf("v1alpha3 reads %+v", hub.Spec)
	}
	back := &v1alpha2.TanzuKubernetesRelease{}
	if err := back.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(spoke, back) {
		t.Errorf("round trip changed the release:\n%s", diff.Diff(spoke, back))
	}
}
