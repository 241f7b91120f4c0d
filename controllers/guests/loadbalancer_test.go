package guests

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/open-supervisor/supervisor/api"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
)

// guestBurst is a guest cluster's burst of LoadBalancer Services (node
// ports allocated) and the supervisor holding its Cluster.
type guestBurst struct {
	cluster    *clusterv1.Cluster
	supervisor client.Client
	guest      client.Client
	services   []*corev1.Service
}

func newGuestBurst(t *testing.T, n int, supervisorFuncs, guestFuncs interceptor.Funcs) *guestBurst {
	t.Helper()
	scheme := api.NewScheme()
	b := &guestBurst{cluster: &clusterv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "tkc01", UID: "uid-tkc01"}}}
	var objs []client.Object
	for i := range n {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("web-%02d", i)},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: int32(30000 + i)}}},
		}
		b.services = append(b.services, svc)
		objs = append(objs, svc)
	}
	b.supervisor = fake.NewClientBuilder().WithScheme(scheme).WithObjects(b.cluster).
		WithStatusSubresource(&vmopv1.VirtualMachineService{}).WithInterceptorFuncs(supervisorFuncs).Build()
	b.guest = fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&corev1.Service{}).WithInterceptorFuncs(guestFuncs).Build()
	return b
}

func (b *guestBurst) reconcile(t *testing.T) error {
	t.Helper()
	r := &LoadBalancerReconciler{Client: b.supervisor}
	return r.reconcileNormal(context.Background(), b.cluster, b.guest)
}

// serveAll gives every VirtualMachineService of the burst a VIP, as lbapi
// does once HAProxy serves it; it returns the VIP of each guest Service.
func (b *guestBurst) serveAll(t *testing.T) map[string]string {
	t.Helper()
	vips := map[string]string{}
	for i, svc := range b.services {
		vmsvc := &vmopv1.VirtualMachineService{}
		key := client.ObjectKey{Namespace: "ns1", Name: VirtualMachineServiceName("tkc01", svc)}
		if err := b.supervisor.Get(context.Background(), key, vmsvc); err != nil {
			t.Fatalf("no VirtualMachineService for guest Service %s: %v", svc.Name, err)
		}
		vip := fmt.Sprintf("127.32.0.%d", 20+i)
		vmsvc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: vip}}
		if err := b.supervisor.Status().Update(context.Background(), vmsvc); err != nil {
			t.Fatal(err)
		}
		vips[svc.Name] = vip
	}
	return vips
}

func (b *guestBurst) wantVIPs(t *testing.T, vips map[string]string) {
	t.Helper()
	for _, svc := range b.services {
		got := &corev1.Service{}
		if err := b.guest.Get(context.Background(), client.ObjectKeyFromObject(svc), got); err != nil {
			t.Fatal(err)
		}
		if ing := got.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != vips[svc.Name] {
			t.Errorf("guest Service %s: want VIP %s in its status, got %+v", svc.Name, vips[svc.Name], ing)
		}
	}
}

// A burst of guest LoadBalancer Services gets one VirtualMachineService
// each, forwarding to the workers' node ports, and each Service gets its
// VIP in its status once lbapi serves it.
func TestGuestLoadBalancerBurst(t *testing.T) {
	b := newGuestBurst(t, 20, interceptor.Funcs{}, interceptor.Funcs{})
	if err := b.reconcile(t); err != nil {
		t.Fatal(err)
	}
	for _, svc := range b.services {
		vmsvc := &vmopv1.VirtualMachineService{}
		if err := b.supervisor.Get(context.Background(), client.ObjectKey{Namespace: "ns1", Name: VirtualMachineServiceName("tkc01", svc)}, vmsvc); err != nil {
			t.Fatalf("guest Service %s: %v", svc.Name, err)
		}
		if p := vmsvc.Spec.Ports; len(p) != 1 || p[0].Port != 80 || p[0].TargetPort != svc.Spec.Ports[0].NodePort || vmsvc.Spec.Type != vmopv1.VirtualMachineServiceTypeLoadBalancer {
			t.Errorf("guest Service %s: want a LoadBalancer from port 80 to node port %d, got %+v", svc.Name, svc.Spec.Ports[0].NodePort, vmsvc.Spec)
		}
	}
	vips := b.serveAll(t)
	if err := b.reconcile(t); err != nil {
		t.Fatal(err)
	}
	b.wantVIPs(t, vips)
}

// The cache lags behind the writes of earlier reconciles: a
// VirtualMachineService it does not show yet and a guest Service older
// than the one the API server holds cost no error and no retry, and the
// VIPs still reach the guest Services.
func TestGuestLoadBalancerBehindItsCache(t *testing.T) {
	staleVMServices := interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if _, ok := obj.(*vmopv1.VirtualMachineService); ok {
			return apierrors.NewNotFound(vmopv1.GroupVersion.WithResource("virtualmachineservices").GroupResource(), key.Name)
		}
		return c.Get(ctx, key, obj, opts...)
	}}
	b := newGuestBurst(t, 4, staleVMServices, interceptor.Funcs{})
	if err := b.reconcile(t); err != nil {
		t.Fatal(err)
	}
	if err := b.reconcile(t); err != nil {
		t.Fatalf("a VirtualMachineService the cache does not show yet: %v", err)
	}

	// The guest's cache shows each Service as it was before another
	// writer (the guest's own controllers) changed it.
	staleServices := interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		if l, ok := list.(*corev1.ServiceList); ok {
			for i := range l.Items {
				l.Items[i].ResourceVersion = "1"
			}
		}
		return nil
	}}
	b = newGuestBurst(t, 4, interceptor.Funcs{}, staleServices)
	if err := b.reconcile(t); err != nil {
		t.Fatal(err)
	}
	vips := b.serveAll(t)
	for _, svc := range b.services {
		moved := &corev1.Service{}
		if err := b.guest.Get(context.Background(), client.ObjectKeyFromObject(svc), moved); err != nil {
			t.Fatal(err)
		}
		moved.Labels = map[string]string{"touched": "yes"}
		if err := b.guest.Update(context.Background(), moved); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.reconcile(t); err != nil {
		t.Fatalf("writing VIPs into guest Services the cache shows older: %v", err)
	}
	b.wantVIPs(t, vips)
}
