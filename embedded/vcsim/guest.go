package vcsim

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/open-supervisor/supervisor/providers/vsphere/inventory"
	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
)

// Guest plays the guest OS of every simulated VM: vcsim VMs run nothing, so
// when one powers on with cloud-init network metadata in guestinfo, Guest
// reports the address that metadata configures (after BootDelay), as VMware
// Tools would once cloud-init has applied it. It learns of power-ons from
// the simulator's registry (no ContainerView: vcsim can deadlock when many
// views watch concurrent clones) and writes through vcsim's
// "SET.guest.ipAddress" extraConfig hook, which vcsim applies and announces
// to property collectors.
type Guest struct {
	Client    *vim25.Client
	BootDelay time.Duration

	poweredOn chan types.ManagedObjectReference
}

func newGuest(c *vim25.Client, bootDelay time.Duration) *Guest {
	return &Guest{Client: c, BootDelay: bootDelay, poweredOn: make(chan types.ManagedObjectReference, 16384)}
}

// Reference names the guest as a registry handler.
func (g *Guest) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "OpenSupervisorGuest", Value: "guest"}
}

// PutObject is called by vcsim for every new object.
func (g *Guest) PutObject(_ *simulator.Context, obj mo.Reference) {
	if vm, ok := obj.(*simulator.VirtualMachine); ok && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		g.notify(vm.Self)
	}
}

// UpdateObject is called by vcsim, under its locks, for every change: it
// only notes power-ons.
func (g *Guest) UpdateObject(_ *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	if obj.Reference().Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name == "runtime.powerState" && fmt.Sprint(c.Val) == string(types.VirtualMachinePowerStatePoweredOn) {
			g.notify(obj.Reference())
		}
	}
}

// RemoveObject is called by vcsim for every removed object.
func (g *Guest) RemoveObject(*simulator.Context, types.ManagedObjectReference) {}

func (g *Guest) notify(ref types.ManagedObjectReference) {
	select {
	case g.poweredOn <- ref:
	default:
		go func() { g.poweredOn <- ref }()
	}
}

// Start boots powered-on VMs until ctx ends (manager.Runnable).
func (g *Guest) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("simulated-guest")
	for {
		select {
		case <-ctx.Done():
			return nil
		case ref := <-g.poweredOn:
			time.AfterFunc(g.BootDelay, func() {
				if err := g.boot(ctx, ref); err != nil && ctx.Err() == nil {
					log.V(4).Info("Simulated guest did not report an IP", "vm", ref.Value, "reason", err.Error())
				}
			})
		}
	}
}

// boot reports the address the VM's metadata configures.
func (g *Guest) boot(ctx context.Context, ref types.ManagedObjectReference) error {
	var vm mo.VirtualMachine
	if err := property.DefaultCollector(g.Client).RetrieveOne(ctx, ref, []string{"config.extraConfig", "guest.ipAddress", "runtime.powerState"}, &vm); err != nil {
		return err
	}
	if vm.Config == nil || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return nil
	}
	ip := metadataIP(vm.Config.ExtraConfig)
	if ip == "" || (vm.Guest != nil && vm.Guest.IpAddress == ip) {
		return nil
	}
	task, err := object.NewVirtualMachine(g.Client, ref).Reconfigure(ctx, types.VirtualMachineConfigSpec{
		ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: "SET.guest.ipAddress", Value: ip}},
	})
	if err != nil {
		return err
	}
	return inventory.WaitTask(ctx, task)
}

func metadataIP(extra []types.BaseOptionValue) string {
	for _, o := range extra {
		ov := o.GetOptionValue()
		if ov.Key != "guestinfo.metadata" {
			continue
		}
		s, _ := ov.Value.(string)
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return ""
		}
		addrs, err := virtualmachine.MetadataAddresses(raw)
		if err != nil || len(addrs) == 0 {
			return ""
		}
		return addrs[0].Addr().String()
	}
	return ""
}
