package inventory

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// PortGroups names distributed portgroups by managed object id, as the
// Workload Management enable spec gives them.
type PortGroups struct {
	Client *vim25.Client
}

// PortGroupName returns the name of portgroup moref (dvportgroup-22);
// found is false when vCenter has no such portgroup.
func (p *PortGroups) PortGroupName(ctx context.Context, moref string) (string, bool, error) {
	ref := types.ManagedObjectReference{Type: "DistributedVirtualPortgroup", Value: moref}
	var pg mo.DistributedVirtualPortgroup
	err := property.DefaultCollector(p.Client).RetrieveOne(ctx, ref, []string{"name"}, &pg)
	if err != nil {
		if soap.IsSoapFault(err) {
			if _, ok := soap.ToSoapFault(err).VimFault().(types.ManagedObjectNotFound); ok {
				return "", false, nil
			}
		}
		return "", false, fmt.Errorf("failed to read portgroup %s: %w", moref, err)
	}
	return pg.Name, true, nil
}
