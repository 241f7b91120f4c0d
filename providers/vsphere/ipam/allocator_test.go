package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func newFakeClient(t *testing.T, funcs *interceptor.Funcs) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := vspherev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(s)
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	return b.Build()
}

func network(name string, ranges ...string) *vspherev1.WorkloadNetwork {
	return &vspherev1.WorkloadNetwork{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       vspherev1.WorkloadNetworkSpec{PortGroup: name, AddressRanges: ranges, PrefixLength: 24, Gateway: "10.0.0.1"},
	}
}

func owner(uid string) Owner {
	return Owner{Kind: "VirtualMachine", Namespace: "ns1", Name: "vm-" + uid, UID: uid}
}

// held lists the addresses allocated on a network, by owner UID.
func held(t *testing.T, c client.Client, network string) map[string][]string {
	t.Helper()
	var list vspherev1.IPAddressAllocationList
	if err := c.List(context.Background(), &list, client.MatchingLabels{vspherev1.AllocationNetworkLabel: network}); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, a := range list.Items {
		out[a.Spec.Owner.UID] = append(out[a.Spec.Owner.UID], a.Spec.Address)
	}
	for _, addrs := range out {
		slices.Sort(addrs)
	}
	return out
}

// TestAllocator runs ordered steps on one allocator over a network of three
// addresses, one of them its gateway.
func TestAllocator(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	a := &Allocator{Client: c, Reader: c}
	nw := network("primary", "10.0.0.1-10.0.0.3")
	other := network("secondary", "10.1.0.0/30")
	pristine := nw.DeepCopy()

	type step struct {
		name    string
		do      func() (netip.Addr, error)
		want    string // the address returned, if any
		wantErr string // a substring of the error, if one is expected
		held    map[string][]string
	}
	ensure := func(nw *vspherev1.WorkloadNetwork, uid string) func() (netip.Addr, error) {
		return func() (netip.Addr, error) { return a.Ensure(ctx, nw, owner(uid)) }
	}
	release := func(uid string) func() (netip.Addr, error) {
		return func() (netip.Addr, error) { return netip.Addr{}, a.Release(ctx, uid) }
	}
	steps := []step{
		{name: "the lowest free address, skipping the gateway", do: ensure(nw, "a"), want: "10.0.0.2",
			held: map[string][]string{"a": {"10.0.0.2"}}},
		{name: "the same owner gets the same address again", do: ensure(nw, "a"), want: "10.0.0.2",
			held: map[string][]string{"a": {"10.0.0.2"}}},
		{name: "another owner gets the next", do: ensure(nw, "b"), want: "10.0.0.3",
			held: map[string][]string{"a": {"10.0.0.2"}, "b": {"10.0.0.3"}}},
		{name: "an exhausted network is an error naming it", do: ensure(nw, "c"), wantErr: "network primary: no free address",
			held: map[string][]string{"a": {"10.0.0.2"}, "b": {"10.0.0.3"}}},
		{name: "another network has its own addresses (a CIDR without its network address)", do: ensure(other, "c"), want: "10.1.0.1",
			held: map[string][]string{"a": {"10.0.0.2"}, "b": {"10.0.0.3"}}},
		{name: "release frees every address of the owner", do: release("a"),
			held: map[string][]string{"b": {"10.0.0.3"}}},
		{name: "a freed address is handed out again", do: ensure(nw, "c"), want: "10.0.0.2",
			held: map[string][]string{"b": {"10.0.0.3"}, "c": {"10.0.0.2"}}},
		{name: "releasing an owner with nothing is fine", do: release("nobody"),
			held: map[string][]string{"b": {"10.0.0.3"}, "c": {"10.0.0.2"}}},
		{name: "a bad range is an error naming the network", do: ensure(network("broken", "10.0.0.9-10.0.0.1"), "d"),
			wantErr: "WorkloadNetwork broken spec.addressRanges",
			held:    map[string][]string{"b": {"10.0.0.3"}, "c": {"10.0.0.2"}}},
	}
	for _, s := range steps {
		got, err := s.do()
		switch {
		case s.wantErr == "" && err != nil:
			t.Fatalf("%s: %v", s.name, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%s: want an error containing %q, got %v", s.name, s.wantErr, err)
		}
		if s.want != "" && got.String() != s.want {
			t.Errorf("%s: got %s, want %s", s.name, got, s.want)
		}
		if h := held(t, c, "primary"); !reflect.DeepEqual(h, s.held) {
			t.Errorf("%s: held %v, want %v", s.name, h, s.held)
		}
		if !reflect.DeepEqual(nw, pristine) {
			t.Fatalf("%s: the allocator changed its input network", s.name)
		}
	}
	if _, err := a.Ensure(ctx, nw, owner("d")); !errors.Is(err, ErrExhausted) {
		t.Errorf("exhaustion is ErrExhausted for callers to branch on, got %v", err)
	}
}

// Two reconciles racing for one VM may each allocate an address for it; the
// one that wins the clone keeps its address and releases the other.
func TestReleaseOthers(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	a := &Allocator{Client: c, Reader: c}
	nw := network("primary", "10.0.0.2-10.0.0.9")
	first, err := a.Ensure(ctx, nw, owner("a"))
	if err != nil {
		t.Fatal(err)
	}
	// The racing reconcile's allocation, recorded as Ensure records one.
	if err := c.Create(ctx, &vspherev1.IPAddressAllocation{
		ObjectMeta: metav1.ObjectMeta{Name: AllocationName("primary", netip.MustParseAddr("10.0.0.3")), Labels: map[string]string{
			vspherev1.AllocationNetworkLabel: "primary", vspherev1.AllocationOwnerUIDLabel: "a",
		}},
		Spec: vspherev1.IPAddressAllocationSpec{Network: "primary", Address: "10.0.0.3", Owner: owner("a")},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ensure(ctx, nw, owner("b")); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseOthers(ctx, "primary", "a", netip.MustParseAddr("10.0.0.3")); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"a": {"10.0.0.3"}, "b": {"10.0.0.4"}}
	if h := held(t, c, "primary"); !reflect.DeepEqual(h, want) {
		t.Errorf("the winner keeps %s and the other owner is untouched: held %v, want %v", "10.0.0.3", h, want)
	}
	if first.String() != "10.0.0.2" {
		t.Errorf("first allocation: %s", first)
	}
	if got, err := a.Ensure(ctx, nw, owner("a")); err != nil || got.String() != "10.0.0.3" {
		t.Errorf("the owner's kept address is its address: %s, %v", got, err)
	}
}

// An owner left with two addresses (racing reconciles before the clone
// claim) keeps the lowest on its next Ensure and frees the rest.
func TestEnsureKeepsTheLowestOfDuplicates(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	nw := network("primary", "10.0.0.2-10.0.0.9")
	for _, addr := range []string{"10.0.0.5", "10.0.0.4"} {
		if err := c.Create(ctx, &vspherev1.IPAddressAllocation{
			ObjectMeta: metav1.ObjectMeta{Name: AllocationName("primary", netip.MustParseAddr(addr)), Labels: map[string]string{
				vspherev1.AllocationNetworkLabel: "primary", vspherev1.AllocationOwnerUIDLabel: "a",
			}},
			Spec: vspherev1.IPAddressAllocationSpec{Network: "primary", Address: addr, Owner: owner("a")},
		}); err != nil {
			t.Fatal(err)
		}
	}
	a := &Allocator{Client: c, Reader: c}
	got, err := a.Ensure(ctx, nw, owner("a"))
	if err != nil || got.String() != "10.0.0.4" {
		t.Fatalf("want 10.0.0.4, got %s, %v", got, err)
	}
	if h := held(t, c, "primary"); !reflect.DeepEqual(h, map[string][]string{"a": {"10.0.0.4"}}) {
		t.Errorf("held %v", h)
	}
}

// An address another supervisor records between our list and our create
// is skipped: the API server's name uniqueness decides, not our list.
func TestEnsureSkipsAnAddressTakenMeanwhile(t *testing.T) {
	ctx := context.Background()
	raced := false
	c := newFakeClient(t, &interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
		if al, ok := obj.(*vspherev1.IPAddressAllocation); ok && !raced {
			raced = true
			theirs := al.DeepCopy()
			theirs.Spec.Owner = owner("other-supervisor")
			theirs.Labels[vspherev1.AllocationOwnerUIDLabel] = "other-supervisor"
			if err := c.Create(ctx, theirs); err != nil {
				return err
			}
		}
		return c.Create(ctx, obj, opts...)
	}})
	a := &Allocator{Client: c, Reader: c}
	got, err := a.Ensure(ctx, network("primary", "10.0.0.2-10.0.0.9"), owner("a"))
	if err != nil || got.String() != "10.0.0.3" {
		t.Fatalf("want the next address, 10.0.0.3, got %s, %v", got, err)
	}
	want := map[string][]string{"a": {"10.0.0.3"}, "other-supervisor": {"10.0.0.2"}}
	if h := held(t, c, "primary"); !reflect.DeepEqual(h, want) {
		t.Errorf("held %v, want %v", h, want)
	}
}

func TestAllocationName(t *testing.T) {
	if got := AllocationName("primary", netip.MustParseAddr("10.0.0.2")); got != "primary.10.0.0.2" {
		t.Errorf("got %q", got)
	}
}

// TestConcurrentEnsuresPickDistinctAddresses: reconciles of a burst that
// all listed the network before any of them recorded an address still
// take one address each at the first try, instead of all trying the
// lowest free one and retrying address by address.
func TestConcurrentEnsuresPickDistinctAddresses(t *testing.T) {
	ctx := context.Background()
	const n = 8
	var listed sync.WaitGroup
	listed.Add(n)
	var mu sync.Mutex
	creates, refused := 0, 0
	c := newFakeClient(t, &interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			err := c.List(ctx, list, opts...)
			var o client.ListOptions
			o.ApplyOptions(opts)
			if !o.LabelSelector.Matches(labels.Set{vspherev1.AllocationNetworkLabel: "primary"}) {
				return err // the owner's allocations
			}
			// Every Ensure has the same picture of the network.
			listed.Done()
			listed.Wait()
			return err
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			err := c.Create(ctx, obj, opts...)
			mu.Lock()
			creates++
			if apierrors.IsAlreadyExists(err) {
				refused++
			}
			mu.Unlock()
			return err
		},
	})
	a := &Allocator{Client: c, Reader: c}
	nw := network("primary", "10.0.0.2-10.0.0.99")
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			addr, err := a.Ensure(ctx, nw, owner(fmt.Sprint(i)))
			got[i], errs[i] = addr.String(), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if len(slices.Compact(slices.Clone(got))) != n {
		t.Errorf("owners share addresses: %v", got)
	}
	if creates != n || refused != 0 {
		t.Errorf("%d creates, %d of them refused as taken; want %d, none refused", creates, refused, n)
	}
	if want := []string{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want the lowest %d", got, n)
	}
}

// The manager's cache may still hold allocations freed a moment ago: a
// network it shows full is asked about again, uncached, before a VM is
// told there is no free address.
func TestEnsureAsksTheAPIServerBeforeRefusingAFullNetwork(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	nw := network("primary", "10.0.0.1-10.0.0.3")
	a := &Allocator{Client: c, Reader: c}
	for _, uid := range []string{"a", "b"} {
		if _, err := a.Ensure(ctx, nw, owner(uid)); err != nil {
			t.Fatal(err)
		}
	}
	var full vspherev1.IPAddressAllocationList
	if err := c.List(ctx, &full); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	a = &Allocator{Client: lagging(c, &full), Reader: c}
	got, err := a.Ensure(ctx, nw, owner("c"))
	if err != nil || got.String() != "10.0.0.2" {
		t.Fatalf("want the freed 10.0.0.2, got %s, %v", got, err)
	}
	if _, err := a.Ensure(ctx, nw, owner("d")); !errors.Is(err, ErrExhausted) {
		t.Errorf("a network full by the API server too is ErrExhausted, got %v", err)
	}
}

// A cache that has not caught up with the allocations made before it was
// read shows taken addresses free: their creates are refused and the next
// address is tried, so owners never share one.
func TestEnsureFromALaggingCache(t *testing.T) {
	ctx := context.Background()
	c := newFakeClient(t, nil)
	nw := network("primary", "10.0.0.2-10.0.0.9")
	var empty vspherev1.IPAddressAllocationList
	for _, uid := range []string{"x", "y", "z"} {
		if _, err := (&Allocator{Client: c, Reader: c}).Ensure(ctx, nw, owner(uid)); err != nil {
			t.Fatal(err)
		}
	}
	a := &Allocator{Client: lagging(c, &empty), Reader: c}
	got, err := a.Ensure(ctx, nw, owner("a"))
	if err != nil || got.String() != "10.0.0.5" {
		t.Fatalf("want 10.0.0.5, the lowest the API server has free, got %s, %v", got, err)
	}
	want := map[string][]string{"a": {"10.0.0.5"}, "x": {"10.0.0.2"}, "y": {"10.0.0.3"}, "z": {"10.0.0.4"}}
	if h := held(t, c, "primary"); !reflect.DeepEqual(h, want) {
		t.Errorf("held %v, want %v", h, want)
	}
}

// lagging is c whose lists answer an earlier picture, as a cache that has
// not caught up does; its writes are c's.
func lagging(c client.Client, earlier *vspherev1.IPAddressAllocationList) client.Client {
	return interceptor.NewClient(c.(client.WithWatch), interceptor.Funcs{
		List: func(_ context.Context, _ client.WithWatch, list client.ObjectList, _ ...client.ListOption) error {
			earlier.DeepCopyInto(list.(*vspherev1.IPAddressAllocationList))
			return nil
		},
	})
}
