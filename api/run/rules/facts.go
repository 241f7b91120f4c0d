package rules

import (
	"context"
	"fmt"
)

// Facts are the answers of Lookups for one cluster, gathered once so that
// defaulting and validation are pure functions of the object and the facts.
type Facts struct {
	VMClasses          []string
	StorageClasses     []string
	Releases           []Release
	SupervisorNetworks []Network
	// DefaultCNI is never empty: the TkgServiceConfiguration's, or antrea.
	DefaultCNI string
	// DefaultProxy and DefaultTrust are the TkgServiceConfiguration's, for
	// clusters that set none.
	DefaultProxy *Proxy
	DefaultTrust *Trust
}

// Gather asks the lookups everything a cluster in namespace is checked
// against.
func Gather(ctx context.Context, l Lookups, namespace string) (Facts, error) {
	var f Facts
	var err error
	if f.VMClasses, err = l.VMClasses(ctx, namespace); err != nil {
		return Facts{}, fmt.Errorf("failed to list the VM classes of namespace %s: %w", namespace, err)
	}
	if f.StorageClasses, err = l.StorageClasses(ctx, namespace); err != nil {
		return Facts{}, fmt.Errorf("failed to list the storage classes of namespace %s: %w", namespace, err)
	}
	if f.Releases, err = l.Releases(ctx); err != nil {
		return Facts{}, fmt.Errorf("failed to list TanzuKubernetesReleases: %w", err)
	}
	if f.SupervisorNetworks, err = l.SupervisorNetworks(ctx); err != nil {
		return Facts{}, fmt.Errorf("failed to list the supervisor's networks: %w", err)
	}
	defaults, err := l.ServiceDefaults(ctx)
	if err != nil {
		return Facts{}, fmt.Errorf("failed to read the TkgServiceConfiguration's defaults: %w", err)
	}
	f.DefaultCNI, f.DefaultProxy, f.DefaultTrust = defaults.CNI, defaults.Proxy, defaults.Trust
	if f.DefaultCNI == "" {
		f.DefaultCNI = DefaultCNI
	}
	return f, nil
}
