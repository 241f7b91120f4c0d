package tanzukubernetescluster

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
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
