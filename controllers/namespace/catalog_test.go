package namespace

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func catalogClasses(t *testing.T, c client.Client) map[string]vmopv1.VirtualMachineClass {
	t.Helper()
	var list vmopv1.VirtualMachineClassList
	if err := c.List(context.Background(), &list, client.InNamespace(vspherev1.VMClassCatalogNamespace)); err != nil {
		t.Fatal(err)
	}
	out := map[string]vmopv1.VirtualMachineClass{}
	for _, cl := range list.Items {
		out[cl.Name] = cl
	}
	return out
}

func TestEnsureCatalogSeedsTheDefaultsOnce(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).Build()

	created, err := EnsureCatalog(ctx, c, c)
	if err != nil || created != 16 {
		t.Fatalf("first seeding: created %d, err %v; want 16", created, err)
	}
	if got := catalogClasses(t, c); len(got) != 16 || got["best-effort-xsmall"].Spec.Hardware.Cpus != 2 {
		t.Fatalf("catalog holds %d classes: %v", len(got), got)
	}
	again, err := EnsureCatalog(ctx, c, c)
	if err != nil || again != 0 {
		t.Fatalf("second seeding: created %d, err %v; want nothing", again, err)
	}

	// An admin deletes a default class: a restart must not bring it back.
	doomed := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.VMClassCatalogNamespace, Name: "guaranteed-8xlarge"}}
	if err := c.Delete(ctx, doomed); err != nil {
		t.Fatal(err)
	}
	if n, err := EnsureCatalog(ctx, c, c); err != nil || n != 0 {
		t.Fatalf("after the admin's delete: created %d, err %v", n, err)
	}
	if _, back := catalogClasses(t, c)["guaranteed-8xlarge"]; back {
		t.Error("a default class the admin deleted came back")
	}
}

func TestEnsureCatalogKeepsAnAdminsEdit(t *testing.T) {
	ctx := context.Background()
	edited := DefaultClasses(vspherev1.VMClassCatalogNamespace)[0]
	edited.Spec.Hardware.Cpus = 7
	edited.Spec.Description = "mine"
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vspherev1.VMClassCatalogNamespace}}, edited,
	).Build()

	created, err := EnsureCatalog(ctx, c, c)
	if err != nil || created != 15 {
		t.Fatalf("created %d, err %v; want the 15 missing ones", created, err)
	}
	got := catalogClasses(t, c)[edited.Name]
	if got.Spec.Hardware.Cpus != 7 || got.Spec.Description != "mine" {
		t.Errorf("the admin's %s was overwritten: %+v", edited.Name, got.Spec)
	}
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, client.ObjectKey{Name: vspherev1.VMClassCatalogNamespace}, ns); err != nil || ns.Annotations[CatalogSeededAnnotation] != "true" {
		t.Errorf("catalog namespace not marked as seeded: %v %v", ns.Annotations, err)
	}
}

func TestOwnedByVSphereNamespace(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name string
		refs []metav1.OwnerReference
		want bool
	}{
		{"labelled by hand", nil, false},
		{"controlled by a VSphereNamespace", []metav1.OwnerReference{{APIVersion: vspherev1.GroupVersion.String(), Kind: "VSphereNamespace", Name: "ns1", UID: "u", Controller: &yes}}, true},
		{"merely owned", []metav1.OwnerReference{{APIVersion: vspherev1.GroupVersion.String(), Kind: "VSphereNamespace", Name: "ns1", UID: "u"}}, false},
		{"controlled by another kind", []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "VSphereNamespace", Name: "ns1", UID: "u", Controller: &yes}}, false},
	} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns1", OwnerReferences: tc.refs}}
		if got := OwnedByVSphereNamespace(ns); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
