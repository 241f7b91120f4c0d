package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/internal/iprange"
)

// ErrExhausted means every address of the network is allocated.
var ErrExhausted = errors.New("no free address")

// Allocator records allocations in the Kubernetes API. The API server's
// name uniqueness (an allocation is named after its network and address)
// is what keeps two owners off one address, in one process or several; the
// reads only choose which address to try.
type Allocator struct {
	// Client writes allocations and reads them from the manager's cache,
	// which may lag: a network's picture from it costs the API server
	// nothing, and an address it shows free that is taken is refused at
	// create and the next one tried.
	Client client.Client
	// Reader reads allocations uncached, where a stale answer would be
	// wrong rather than slow: the owner's own allocations (a repeated
	// Ensure must find the one it made a moment ago) and a network the
	// cache shows full.
	Reader client.Reader

	// mu guards what concurrent Ensure calls of this process must know of
	// each other: an Ensure's list of the network misses the addresses
	// recorded after it began, so it skips those (and those being
	// recorded) rather than try them. Without this every reconcile of a
	// burst picked the same lowest free address and all but one retried,
	// address by address: 100 VMs made some 2000 refused creates, which
	// held the burst's clones back by seconds.
	mu sync.Mutex
	// seq counts the creates this process finished; running counts the
	// Ensure calls under way by the seq when they began.
	seq     int64
	running map[int64]int
	// recent are the addresses recorded by network, with the seq their
	// create finished at (0 while it runs), kept while an Ensure that
	// began before may be running.
	recent map[string]map[netip.Addr]int64
}

// Owner is who an address is allocated to.
type Owner = vspherev1.IPAddressAllocationOwner

// Ensure returns the owner's address on the network, allocating the lowest
// free one the first time. Repeated calls return the same address.
func (a *Allocator) Ensure(ctx context.Context, network *vspherev1.WorkloadNetwork, owner Owner) (netip.Addr, error) {
	ranges, err := iprange.ParseAll(network.Spec.AddressRanges)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("WorkloadNetwork %s spec.addressRanges: %w", network.Name, err)
	}
	began := a.begin()
	defer a.end(began)
	if addr, ok, err := a.owned(ctx, network.Name, owner.UID); err != nil || ok {
		return addr, err
	}

	taken, err := a.taken(ctx, a.Client, network)
	if err != nil {
		return netip.Addr{}, err
	}
	confirmed := false
	for {
		addr, ok := a.pick(network.Name, ranges, taken, began)
		if !ok && !confirmed {
			// The cache may still hold allocations freed since: only the
			// API server itself may say the network is full.
			if taken, err = a.taken(ctx, a.Reader, network); err != nil {
				return netip.Addr{}, err
			}
			confirmed = true
			continue
		}
		if !ok {
			return netip.Addr{}, fmt.Errorf("network %s: %w", network.Name, ErrExhausted)
		}
		err := a.Client.Create(ctx, &vspherev1.IPAddressAllocation{
			ObjectMeta: metav1.ObjectMeta{
				Name: AllocationName(network.Name, addr),
				Labels: map[string]string{
					vspherev1.AllocationNetworkLabel:  network.Name,
					vspherev1.AllocationOwnerUIDLabel: owner.UID,
				},
			},
			Spec: vspherev1.IPAddressAllocationSpec{Network: network.Name, Address: addr.String(), Owner: owner},
		})
		a.recorded(network.Name, addr, err == nil || apierrors.IsAlreadyExists(err))
		switch {
		case err == nil:
			return addr, nil
		case apierrors.IsAlreadyExists(err):
			taken[addr] = true // someone else got it first
		default:
			return netip.Addr{}, fmt.Errorf("failed to record allocation of %s on network %s: %w", addr, network.Name, err)
		}
	}
}

// taken reads the network's allocated addresses, and its gateway, through r.
func (a *Allocator) taken(ctx context.Context, r client.Reader, network *vspherev1.WorkloadNetwork) (map[netip.Addr]bool, error) {
	var all vspherev1.IPAddressAllocationList
	if err := r.List(ctx, &all, client.MatchingLabels{vspherev1.AllocationNetworkLabel: network.Name}); err != nil {
		return nil, fmt.Errorf("failed to list allocations of network %s: %w", network.Name, err)
	}
	taken := map[netip.Addr]bool{}
	for _, al := range all.Items {
		if addr, err := netip.ParseAddr(al.Spec.Address); err == nil {
			taken[addr] = true
		}
	}
	if gw, err := netip.ParseAddr(network.Spec.Gateway); err == nil {
		taken[gw] = true
	}
	return taken, nil
}

// begin registers an Ensure before it lists the network; end unregisters
// it and forgets the recorded addresses no running Ensure can have missed.
func (a *Allocator) begin() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running == nil {
		a.running = map[int64]int{}
		a.recent = map[string]map[netip.Addr]int64{}
	}
	a.running[a.seq]++
	return a.seq
}

func (a *Allocator) end(began int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running[began]--; a.running[began] == 0 {
		delete(a.running, began)
	}
	oldest := a.seq
	for s := range a.running {
		oldest = min(oldest, s)
	}
	for _, addrs := range a.recent {
		for addr, s := range addrs {
			if s != 0 && s <= oldest {
				delete(addrs, addr)
			}
		}
	}
}

// pick takes the lowest address free by taken (the Ensure's list) that
// this process is not recording and did not record after the Ensure
// began, and marks it as being recorded. The API server's name uniqueness
// still decides between processes.
func (a *Allocator) pick(network string, ranges []iprange.Range, taken map[netip.Addr]bool, began int64) (netip.Addr, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	recent := a.recent[network]
	addr, ok := iprange.FirstFree(ranges, func(x netip.Addr) bool {
		s, recorded := recent[x]
		return taken[x] || (recorded && (s == 0 || s > began))
	})
	if !ok {
		return netip.Addr{}, false
	}
	if recent == nil {
		recent = map[netip.Addr]int64{}
		a.recent[network] = recent
	}
	recent[addr] = 0
	return addr, true
}

// recorded ends pick's mark: an address whose allocation now exists (ours,
// or another's that got it first) is recent; one whose create failed
// otherwise is not.
func (a *Allocator) recorded(network string, addr netip.Addr, exists bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !exists {
		delete(a.recent[network], addr)
		return
	}
	a.seq++
	a.recent[network][addr] = a.seq
}

// owned returns the owner's existing address; if racing reconciles left it
// more than one, it keeps the lowest and releases the rest.
func (a *Allocator) owned(ctx context.Context, network, ownerUID string) (netip.Addr, bool, error) {
	mine, err := a.ownerAllocations(ctx, network, ownerUID)
	if err != nil {
		return netip.Addr{}, false, err
	}
	if len(mine.Items) == 0 {
		return netip.Addr{}, false, nil
	}
	sort.Slice(mine.Items, func(i, j int) bool { return mine.Items[i].Name < mine.Items[j].Name })
	addrs := make([]netip.Addr, len(mine.Items))
	for i, al := range mine.Items {
		addrs[i], _ = netip.ParseAddr(al.Spec.Address)
	}
	keep := 0
	for i := range addrs {
		if addrs[i].Less(addrs[keep]) {
			keep = i
		}
	}
	for i := range mine.Items {
		if i != keep {
			if err := a.delete(ctx, &mine.Items[i]); err != nil {
				return netip.Addr{}, false, fmt.Errorf("failed to release duplicate allocation %s: %w", mine.Items[i].Name, err)
			}
		}
	}
	return addrs[keep], true, nil
}

// ReleaseOthers frees the owner's addresses other than keep. Two reconciles
// racing to create one VM (two managers) may each allocate an address
// before one of them wins the right to clone; the winner calls this with
// the address its VM gets, so the loser's is not held until the VM goes.
// Only the winner may call it: the loser's address is never in use.
func (a *Allocator) ReleaseOthers(ctx context.Context, network, ownerUID string, keep netip.Addr) error {
	mine, err := a.ownerAllocations(ctx, network, ownerUID)
	if err != nil {
		return err
	}
	return a.deleteAllBut(ctx, mine.Items, keep)
}

// deleteAllBut deletes the allocations except those of address keep.
func (a *Allocator) deleteAllBut(ctx context.Context, allocs []vspherev1.IPAddressAllocation, keep netip.Addr) error {
	for i := range allocs {
		if allocs[i].Spec.Address == keep.String() {
			continue
		}
		if err := a.delete(ctx, &allocs[i]); err != nil {
			return fmt.Errorf("failed to release allocation %s: %w", allocs[i].Name, err)
		}
	}
	return nil
}

// delete deletes the allocation it was given and no other: read from a
// cache, its name may since have been freed and taken by another owner,
// whose allocation (another UID) the precondition keeps.
func (a *Allocator) delete(ctx context.Context, al *vspherev1.IPAddressAllocation) error {
	err := a.Client.Delete(ctx, al, client.Preconditions{UID: &al.UID})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// ownerAllocations lists the owner's allocations on the network, uncached.
func (a *Allocator) ownerAllocations(ctx context.Context, network, ownerUID string) (*vspherev1.IPAddressAllocationList, error) {
	var mine vspherev1.IPAddressAllocationList
	if err := a.Reader.List(ctx, &mine, client.MatchingLabels{
		vspherev1.AllocationNetworkLabel:  network,
		vspherev1.AllocationOwnerUIDLabel: ownerUID,
	}); err != nil {
		return nil, fmt.Errorf("failed to list allocations of %s: %w", ownerUID, err)
	}
	return &mine, nil
}

// KeepOnly frees the owner's allocations on every network except the one
// of inUse, the address its VM has. A reconcile that lost the race to
// clone may have allocated after the winner released the others
// (ReleaseOthers); any later reconcile of the running VM frees that one.
// Nothing is freed unless inUse is one of the owner's allocations. It is
// called on every reconcile of a VM, so it reads the cache: an allocation
// the cache has not caught up with is freed by a later reconcile.
func (a *Allocator) KeepOnly(ctx context.Context, ownerUID string, inUse netip.Addr) error {
	var mine vspherev1.IPAddressAllocationList
	if err := a.Client.List(ctx, &mine, client.MatchingLabels{vspherev1.AllocationOwnerUIDLabel: ownerUID}); err != nil {
		return fmt.Errorf("failed to list allocations of %s: %w", ownerUID, err)
	}
	if len(mine.Items) < 2 || !slices.ContainsFunc(mine.Items, func(al vspherev1.IPAddressAllocation) bool { return al.Spec.Address == inUse.String() }) {
		return nil
	}
	return a.deleteAllBut(ctx, mine.Items, inUse)
}

// Release frees every address allocated to the owner.
func (a *Allocator) Release(ctx context.Context, ownerUID string) error {
	err := a.Client.DeleteAllOf(ctx, &vspherev1.IPAddressAllocation{}, client.MatchingLabels{vspherev1.AllocationOwnerUIDLabel: ownerUID})
	if err != nil {
		return fmt.Errorf("failed to release the addresses of %s: %w", ownerUID, err)
	}
	return nil
}

// AllocationName is the object name recording addr on network.
func AllocationName(network string, addr netip.Addr) string {
	return network + "." + addr.String()
}
