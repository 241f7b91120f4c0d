package integration

import (
	"context"
	"net/netip"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/providers/vsphere/ipam"
	"github.com/open-supervisor/supervisor/test/harness"
)

// A VM's reconcile frees the addresses a racing reconcile left it, reading
// them from the manager's cache, which may be behind: an address freed
// since and taken by another VM (same name, another object) stays the
// other VM's. The API server, not the fake client, enforces the delete's
// UID precondition this relies on.
func TestKeepOnlyNeverFreesAnotherOwnersAllocation(t *testing.T) {
	ctx := context.Background()
	h := harness.New(t, harness.Options{})
	create := func(addr, ownerUID string) *vspherev1.IPAddressAllocation {
		t.Helper()
		al := &vspherev1.IPAddressAllocation{
			ObjectMeta: metav1.ObjectMeta{Name: ipam.AllocationName(h.Network, netip.MustParseAddr(addr)), Labels: map[string]string{
				vspherev1.AllocationNetworkLabel: h.Network, vspherev1.AllocationOwnerUIDLabel: ownerUID,
			}},
			Spec: vspherev1.IPAddressAllocationSpec{Network: h.Network, Address: addr,
				Owner: ipam.Owner{Kind: "VirtualMachine", Namespace: h.Namespace, Name: ownerUID, UID: ownerUID}},
		}
		if err := h.Client.Create(ctx, al); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Client.Delete(context.Background(), al) })
		return al
	}
	held := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, owner := range []string{"vm-a", "vm-b"} {
			for _, al := range allocations(t, h, owner) {
				out[owner] = append(out[owner], al.Spec.Address)
			}
		}
		return out
	}

	mine := create("127.21.200.2", "vm-a")
	leftover := create("127.21.200.3", "vm-a")
	var cached vspherev1.IPAddressAllocationList
	if err := h.Client.List(ctx, &cached, client.MatchingLabels{vspherev1.AllocationOwnerUIDLabel: "vm-a"}); err != nil {
		t.Fatal(err)
	}
	// Meanwhile the leftover was freed and VM b got its address.
	if err := h.Client.Delete(ctx, leftover); err != nil {
		t.Fatal(err)
	}
	create("127.21.200.3", "vm-b")

	apiServer, err := client.NewWithWatch(harness.Config().Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	lagging := interceptor.NewClient(apiServer, interceptor.Funcs{
		List: func(_ context.Context, _ client.WithWatch, list client.ObjectList, _ ...client.ListOption) error {
			cached.DeepCopyInto(list.(*vspherev1.IPAddressAllocationList))
			return nil
		},
	})
	inUse := netip.MustParseAddr(mine.Spec.Address)
	if err := (&ipam.Allocator{Client: lagging, Reader: apiServer}).KeepOnly(ctx, "vm-a", inUse); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"vm-a": {"127.21.200.2"}, "vm-b": {"127.21.200.3"}}
	if got := held(); !reflect.DeepEqual(got, want) {
		t.Errorf("held %v, want %v: VM b's allocation must survive a release read from a stale cache", got, want)
	}

	// Read fresh, a real leftover is freed.
	create("127.21.200.4", "vm-a")
	if err := (&ipam.Allocator{Client: apiServer, Reader: apiServer}).KeepOnly(ctx, "vm-a", inUse); err != nil {
		t.Fatal(err)
	}
	if got := held(); !reflect.DeepEqual(got, want) {
		t.Errorf("after freeing a leftover: held %v, want %v", got, want)
	}
}
