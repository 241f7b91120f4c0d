package inventory

import (
	"context"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

func TestPortGroupName(t *testing.T) {
	simulator.Test(func(ctx context.Context, c *vim25.Client) {
		pg, err := find.NewFinder(c).Network(ctx, "DC0_DVPG0")
		if err != nil {
			t.Fatal(err)
		}
		p := &PortGroups{Client: c}
		name, found, err := p.PortGroupName(ctx, pg.Reference().Value)
		if err != nil || !found || name != "DC0_DVPG0" {
			t.Errorf("PortGroupName(%s) = %q, %v, %v", pg.Reference().Value, name, found, err)
		}
		if _, found, err := p.PortGroupName(ctx, "dvportgroup-9999"); err != nil || found {
			t.Errorf("an unknown portgroup: found %v, %v", found, err)
		}
	})
}
