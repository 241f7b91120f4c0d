package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lbv1 "github.com/open-supervisor/supervisor/api/lbapi/v1alpha1"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/test/wait"
)

// apply creates every object of a manifest file in namespace.
func apply(t *testing.T, path, namespace string) []*unstructured.Unstructured {
	t.Helper()
	return applyWith(t, path, namespace, nil)
}

// applyWith is apply with a change made to each object before it is created.
func applyWith(t *testing.T, path, namespace string, change func(*unstructured.Unstructured)) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		u.SetNamespace(namespace)
		if change != nil {
			change(u)
		}
		if err := supervisor.client.Create(context.Background(), u); err != nil {
			t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		out = append(out, u)
	}
	return out
}

// The README's walkthrough: the sample VM powers on with an address of the
// workload range, and the sample VirtualMachineService gets a VIP of the
// embedded load balancer that accepts TCP.
func TestWalkthroughVMAndVIP(t *testing.T) {
	c := supervisor.client
	ctx := context.Background()
	lb := &lbv1.LoadBalancer{}
	if err := c.Get(ctx, client.ObjectKey{Name: "haproxy-local"}, lb); err != nil {
		t.Fatal(err)
	}
	apply(t, "../../templates/samples/virtualmachine.yaml", "ns1")
	apply(t, "../../templates/samples/virtualmachineservice.yaml", "ns1")

	wait.For(t, time.Minute, "my-vm powered on with an IP", func() (bool, error) {
		vm := &vmopv1.VirtualMachine{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "ns1", Name: "my-vm"}, vm); err != nil {
			return false, err
		}
		if vm.Status.PowerState != vmopv1.VirtualMachinePowerStateOn || vm.Status.Network == nil || !strings.HasPrefix(vm.Status.Network.PrimaryIP4, "127.20.") {
			return false, fmt.Errorf("status %+v", vm.Status)
		}
		return true, nil
	})
	var vip string
	wait.For(t, time.Minute, "a VIP for the demo service", func() (bool, error) {
		svc := &vmopv1.VirtualMachineService{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "ns1", Name: "demo"}, svc); err != nil {
			return false, err
		}
		if len(svc.Status.LoadBalancer.Ingress) == 0 {
			return false, fmt.Errorf("status %+v", svc.Status)
		}
		vip = svc.Status.LoadBalancer.Ingress[0].IP
		return true, nil
	})
	if !strings.HasPrefix(vip, "127.30.0.") {
		t.Errorf("VIP %s is not from the embedded range", vip)
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(vip, "80"), 2*time.Second)
	if err != nil {
		t.Fatalf("the VIP does not accept TCP: %v", err)
	}
	conn.Close()

	for _, o := range []client.Object{
		&vmopv1.VirtualMachineService{}, &vmopv1.VirtualMachine{}, &corev1.Secret{},
	} {
		name := map[string]string{"*v1alpha2.VirtualMachineService": "demo", "*v1alpha2.VirtualMachine": "my-vm", "*v1.Secret": "my-vm-bootstrap"}[fmt.Sprintf("%T", o)]
		o.SetNamespace("ns1")
		o.SetName(name)
		if err := c.Delete(context.Background(), o); err != nil {
			t.Errorf("deleting %T %s: %v", o, name, err)
		}
	}
}
