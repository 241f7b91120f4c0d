package v1alpha1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/api/run/v1alpha2"
)

func TestReleaseRoundTripsThroughV1alpha1(t *testing.T) {
	hub := &v1alpha2.TanzuKubernetesRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "v1.18.20---vmware.1-tkg.1", Labels: map[string]string{"os-name": "photon"}},
		Spec: v1alpha2.TanzuKubernetesReleaseSpec{
			Version: "v1.18.20+vmware.1-tkg.1", KubernetesVersion: "v1.18.20+vmware.1", Repository: "vmware.io",
			Images:       []v1alpha2.ContainerImage{{Name: "etcd", Tag: "v3.4.13_vmware.15"}},
			NodeImageRef: &corev1.ObjectReference{Kind: "ClusterVirtualMachineImage", Name: "ob-18"},
		},
		Status: v1alpha2.TanzuKubernetesReleaseStatus{Conditions: v1alpha2.Conditions{{
			Type: v1alpha2.ReleaseReadyCondition, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now().Rfc3339Copy(),
		}}},
	}
	spoke := &TanzuKubernetesRelease{}
	if err := spoke.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	if spoke.Spec.Version != hub.Spec.Version || spoke.Spec.NodeImageRef.Name != "ob-18" || len(spoke.Status.Conditions) != 1 {
		t.Fatalf("v1alpha1 lost fields: %+v", spoke)
	}
	back := &v1alpha2.TanzuKubernetesRelease{}
	if err := spoke.ConvertTo(back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(hub, back) {
		t.Fatalf("round trip changed the release:\n%s", diff.Diff(hub, back))
	}
}

func TestServiceConfigurationRoundTripsThroughV1alpha1(t *testing.T) {
	hub := &v1alpha2.TkgServiceConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha2.TkgServiceConfigurationName},
		Spec: v1alpha2.TkgServiceConfigurationSpec{
			DefaultCNI:              "calico",
			Proxy:                   &v1alpha2.ProxyConfiguration{HttpProxy: ptr.To("http://127.0.0.1:3128"), NoProxy: []string{"127.0.0.0/8"}},
			DefaultNodeDrainTimeout: &metav1.Duration{Duration: 300_000_000_000},
		},
	}
	spoke := &TkgServiceConfiguration{}
	if err := spoke.ConvertFrom(hub); err != nil {
		t.Fatal(err)
	}
	back := &v1alpha2.TkgServiceConfiguration{}
	if err := spoke.ConvertTo(back); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(hub, back) {
		t.Fatalf("round trip changed the configuration:\n%s", diff.Diff(hub, back))
	}
}
