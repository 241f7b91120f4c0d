package infrastructure

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vmwarev1 "github.com/open-supervisor/supervisor/api/vmware/v1beta2"
)

// A template's capacity is its VM class's CPUs and memory, once the class
// exists; the class's creation maps back to the template.
func TestMachineTemplateCapacityFromClass(t *testing.T) {
	ctx := context.Background()
	tmpl := &vmwarev1.VSphereMachineTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "workers-abc"}}
	tmpl.Spec.Template.Spec.ClassName = "best-effort-small"
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(tmpl).WithStatusSubresource(tmpl).Build()
	r := &MachineTemplateReconciler{Client: c}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(tmpl)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatalf("without its class: %v", err)
	}
	if err := c.Get(ctx, req.NamespacedName, tmpl); err != nil || len(tmpl.Status.Capacity) != 0 {
		t.Fatalf("capacity %v without a class (%v)", tmpl.Status.Capacity, err)
	}
	class := &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "best-effort-small"}}
	class.Spec.Hardware.Cpus = 2
	class.Spec.Hardware.Memory = resource.MustParse("4Gi")
	if err := c.Create(ctx, class); err != nil {
		t.Fatal(err)
	}
	if reqs := r.templatesOfClass(ctx, class); len(reqs) != 1 || reqs[0] != req {
		t.Fatalf("the class maps to %v, want %v", reqs, req)
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, req.NamespacedName, tmpl); err != nil {
		t.Fatal(err)
	}
	cpu, mem := tmpl.Status.Capacity[corev1.ResourceCPU], tmpl.Status.Capacity[corev1.ResourceMemory]
	if cpu.Value() != 2 || mem.String() != "4Gi" {
		t.Errorf("capacity %v; want cpu 2, memory 4Gi", tmpl.Status.Capacity)
	}
}
