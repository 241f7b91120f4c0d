package ipam

import (
	"context"
	"net/netip"
	"os"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/envtest"
)

// apiServer talks to a real kube-apiserver: the fake client ignores a
// delete's UID precondition, which the allocator relies on.
var apiServer client.Client

func TestMain(m *testing.M) {
	os.Exit(envtest.RunSuite(m, envtest.SuiteOptions{
		Setup: func(_ context.Context, s *envtest.Suite) error {
			apiServer = s.Client
			return nil
		},
	}))
}

func createAllocation(t *testing.T, c client.Client, network, addr, ownerUID string) *vspherev1.IPAddressAllocation {
	t.Helper()
	al := &vspherev1.IPAddressAllocation{
		ObjectMeta: metav1.ObjectMeta{Name: AllocationName(network, netip.MustParseAddr(addr)), Labels: map[string]string{
			vspherev1.AllocationNetworkLabel: network, vspherev1.AllocationOwnerUIDLabel: ownerUID,
		}},
		Spec: vspherev1.IPAddressAllocationSpec{Network: network, Address: addr, Owner: owner(ownerUID)},
	}
	if err := c.Create(context.Background(), al); err != nil {
		t.Fatal(err)
	}
	return al
}

// A VM's reconcile frees the addresses a racing reconcile left it, reading
// them from a cache that may be behind: an address freed since and taken
// by another VM (same name, another object) must stay the other VM's.
func TestKeepOnlyNeverFreesAnotherOwnersAllocation(t *testing.T) {
	ctx := context.Background()
	const network = "keeponly"
	mine := createAllocation(t, apiServer, network, "10.2.0.2", "vm-a")
	leftover := createAllocation(t, apiServer, network, "10.2.0.3", "vm-a")
	var cached vspherev1.IPAddressAllocationList
	if err := apiServer.List(ctx, &cached, client.MatchingLabels{vspherev1.AllocationOwnerUIDLabel: "vm-a"}); err != nil {
		t.Fatal(err)
	}
	// Meanwhile the leftover was freed and VM b got its address.
	if err := apiServer.Delete(ctx, leftover); err != nil {
		t.Fatal(err)
	}
	theirs := createAllocation(t, apiServer, network, "10.2.0.3", "vm-b")
	a := &Allocator{Client: staleLists{Client: apiServer, lists: &cached}, Reader: apiServer}
	if err := a.KeepOnly(ctx, "vm-a", netip.MustParseAddr(mine.Spec.Address)); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"vm-a": {"10.2.0.2"}, "vm-b": {"10.2.0.3"}}
	if h := held(t, apiServer, network); !reflect.DeepEqual(h, want) {
		t.Errorf("held %v, want %v (VM b's allocation %s must survive)", h, want, theirs.UID)
	}

	// With a cache that has caught up, a real leftover is freed.
	createAllocation(t, apiServer, network, "10.2.0.4", "vm-a")
	a = &Allocator{Client: apiServer, Reader: apiServer}
	if err := a.KeepOnly(ctx, "vm-a", netip.MustParseAddr(mine.Spec.Address)); err != nil {
		t.Fatal(err)
	}
	if h := held(t, apiServer, network); !reflect.DeepEqual(h, want) {
		t.Errorf("after freeing a leftover: held %v, want %v", h, want)
	}
}

// staleLists is a client whose lists answer what the API server held
// earlier, as a lagging cache does; everything else is the API server's.
type staleLists struct {
	client.Client
	lists *vspherev1.IPAddressAllocationList
}

func (s staleLists) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	s.lists.DeepCopyInto(list.(*vspherev1.IPAddressAllocationList))
	return nil
}
