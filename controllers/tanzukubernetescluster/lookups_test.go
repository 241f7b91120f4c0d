package tanzukubernetescluster

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/tkrname"
)

// A vSphere Namespace with no storage granted may use no StorageClass; a
// namespace labelled by hand, with no spec behind it, may use every one.
func TestStorageClassesOfANamespaceWithoutQuotas(t *testing.T) {
	owned := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "granted-nothing", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: vspherev1.GroupVersion.String(), Kind: "VSphereNamespace", Name: "granted-nothing", UID: "u", Controller: ptr.To(true),
	}}}}
	byHand := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "by-hand", Labels: map[string]string{vspherev1.VSphereNamespaceLabel: "true"}}}
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "k8s-storage"}, Provisioner: "csi.vsphere.vmware.com"}
	l := &ClientLookups{Reader: fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(owned, byHand, class).Build()}
	ctx := context.Background()
	if got, err := l.StorageClasses(ctx, owned.Name); err != nil || len(got) != 0 {
		t.Errorf("a vSphere Namespace granted no storage may use %v (%v)", got, err)
	}
	if got, err := l.StorageClasses(ctx, byHand.Name); err != nil || len(got) != 1 || got[0] != "k8s-storage" {
		t.Errorf("a hand-labelled namespace may use %v (%v), want every class", got, err)
	}
}

// Releases labelled incompatible, deactivated or invalid, or whose
// Compatible or Valid condition is False, are never picked by a hint, as
// on vSphere; the others are.
func TestReleasesHintsSkip(t *testing.T) {
	release := func(name string, labels map[string]string, conds ...runv1alpha3.Condition) *runv1alpha3.TanzuKubernetesRelease {
		return &runv1alpha3.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:   runv1alpha3.TanzuKubernetesReleaseSpec{Version: tkrname.Version(name)},
			Status: runv1alpha3.TanzuKubernetesReleaseStatus{Conditions: conds}}
	}
	objs := []client.Object{
		release("v1.30.1---vmware.1-fips-tkg.5", nil),
		release("v1.30.8---vmware.1-fips-vkr.1", map[string]string{runv1alpha3.LabelDeactivated: ""}),
		release("v1.30.11---vmware.1-fips-vkr.2", map[string]string{runv1alpha3.LabelInvalid: ""}),
		release("v1.30.12---vmware.1-fips-vkr.1", map[string]string{runv1alpha3.LabelIncompatible: ""}),
		release("v1.30.13---vmware.1-fips-vkr.1", nil, runv1alpha3.Condition{Type: runv1alpha3.ReleaseValidCondition, Status: corev1.ConditionFalse}),
		release("v1.30.14---vmware.1-fips-vkr.1", nil, runv1alpha3.Condition{Type: runv1alpha3.ReleaseCompatibleCondition, Status: corev1.ConditionFalse}),
	}
	l := &ClientLookups{Reader: fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(objs...).Build()}
	releases, err := l.Releases(context.Background())
	if err != nil || len(releases) != len(objs) {
		t.Fatalf("%d releases (%v)", len(releases), err)
	}
	if got, err := rules.Resolve("v1.30", releases); err != nil || got.Name != "v1.30.1---vmware.1-fips-tkg.5" {
		t.Errorf("v1.30 resolved to %+v (%v), want the only usable release", got, err)
	}
}
