package integration

import (
	"context"
	"testing"

	"github.com/vmware/govmomi/find"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/harness"
)

// A VirtualMachineImage of type VM names an inventory template by managed
// object ID; VMs are cloned from it directly.
func TestImageFromInventoryTemplate(t *testing.T) {
	h := harness.New(t, harness.Options{})
	h.StartManager(nil)
	ctx := context.Background()

	// Make a template: a VM deployed from the library, marked as template.
	waitReady(h, newVM(t, h, "seed", "best-effort-xsmall"))
	finder := find.NewFinder(h.Sim.Client.Client, false)
	cached, err := finder.VirtualMachineList(ctx, "/DC0/vm/Namespaces/vm-image-cache/*")
	if err != nil || len(cached) != 1 {
		t.Fatalf("want the deployed image in the cache folder: %v %d", err, len(cached))
	}
	if err := cached[0].MarkAsTemplate(ctx); err != nil {
		t.Fatal(err)
	}

	img := &vmopv1.VirtualMachineImage{ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "golden"}}
	if err := h.Client.Create(ctx, img); err != nil {
		t.Fatal(err)
	}
	img.Status = vmopv1.VirtualMachineImageStatus{Name: "golden", Type: vmopv1.ImageTypeVM, ProviderItemID: cached[0].Reference().Value}
	if err := h.Client.Status().Update(ctx, img); err != nil {
		t.Fatal(err)
	}

	got := waitReady(h, newVMFromImage(t, h, "from-template", "best-effort-xsmall", "golden"))
	if got.Status.Image == nil || got.Status.Image.Kind != "VirtualMachineImage" || got.Status.Image.Name != "golden" {
		t.Errorf("status.image = %+v, want the namespaced image", got.Status.Image)
	}
	if n := len(vcVMs(t, h, "from-template")); n != 1 {
		t.Errorf("want one VM cloned from the template, got %d", n)
	}
}
