package rules

import (
	"context"

	"github.com/open-supervisor/supervisor/internal/iprange"
)

// Lookups are the facts outside a TanzuKubernetesCluster that defaulting and
// validation need.
type Lookups interface {
	// VMClasses lists the VirtualMachineClasses bound to the namespace.
	VMClasses(ctx context.Context, namespace string) ([]string, error)
	// StorageClasses lists the StorageClasses the namespace may use.
	StorageClasses(ctx context.Context, namespace string) ([]string, error)
	// Releases lists the TanzuKubernetesReleases.
	Releases(ctx context.Context) ([]Release, error)
	// SupervisorNetworks lists the supervisor's routed ranges (workload
	// networks, load-balancer VIPs) a guest cluster's pods and services
	// must not overlap: a node could no longer reach its own control-plane
	// VIP or a neighbour VM. The supervisor's internal service range is not
	// among them; guest clusters never route to it.
	SupervisorNetworks(ctx context.Context) ([]Network, error)
	// ServiceDefaults are the TkgServiceConfiguration's defaults (CNI,
	// proxy, trust); zero when there is none.
	ServiceDefaults(ctx context.Context) (ServiceDefaults, error)
}

// Release is what resolution needs of a TanzuKubernetesRelease.
type Release struct {
	// Name is the object name, e.g. v1.18.20---vmware.1-tkg.1.
	Name string
	// Version is the full version, e.g. v1.18.20+vmware.1-tkg.1.
	Version string
	// Incompatible releases (condition Compatible False, or the
	// "incompatible" label) are never picked by a hint, but clusters already
	// on them stay valid.
	Incompatible bool
	// Images are its node images (spec.osImages), the default first.
	Images []string
}

// Network is a named range of the supervisor's.
type Network struct {
	// Name says what the range is, for error messages ("workload network
	// workload").
	Name string
	iprange.Range
}
