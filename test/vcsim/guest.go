package vcsim

import (
	"context"
	"encoding/base64"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/open-supervisor/supervisor/providers/vsphere/virtualmachine"
)

// Guest plays the guest OS of every simulated VM: vcsim VMs run nothing, so
// when one powers on with cloud-init network metadata in guestinfo, Guest
// reports the address that metadata configures (after BootDelay), as VMware
// Tools would once cloud-init has applied it. It writes through vcsim's
// "SET.guest.ipAddress" extraConfig hook, which vcsim applies and announces
// to property collectors without storing it.
type Guest struct {
	Client    *vim25.Client
	BootDelay time.Duration

	mu       sync.Mutex
	reported map[types.ManagedObjectReference]string
}

// Start follows VMs until ctx ends (manager.Runnable).
func (g *Guest) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("simulated-guest")
	g.reported = map[types.ManagedObjectReference]string{}
	for ctx.Err() == nil {
		if err := g.watch(ctx); err != nil && ctx.Err() == nil {
			log.Error(err, "Watching simulated VMs failed, starting over")
			time.Sleep(time.Second)
		}
	}
	return nil
}

func (g *Guest) watch(ctx context.Context) error {
	v, err := view.NewManager(g.Client).CreateContainerView(ctx, g.Client.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(context.WithoutCancel(ctx)) }()
	pc, err := property.DefaultCollector(g.Client).Create(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy(context.WithoutCancel(ctx)) }()
	filter := new(property.WaitFilter)
	filter.Add(v.Reference(), "VirtualMachine", []string{"runtime.powerState", "config.extraConfig", "guest.ipAddress"}, &types.TraversalSpec{
		Type: "ContainerView", Path: "view",
	})
	filter.Spec.ObjectSet[0].Skip = types.NewBool(true)
	if _, err := pc.CreateFilter(ctx, filter.CreateFilter); err != nil {
		return err
	}
	vms := map[types.ManagedObjectReference]*mo.VirtualMachine{}
	return pc.WaitForUpdatesEx(ctx, &property.WaitOptions{}, func(updates []types.ObjectUpdate) bool {
		for _, u := range updates {
			if u.Kind == types.ObjectUpdateKindLeave {
				delete(vms, u.Obj)
				continue
			}
			vm, ok := vms[u.Obj]
			if !ok {
				vm = &mo.VirtualMachine{}
				vm.Self = u.Obj
				vms[u.Obj] = vm
			}
			mo.ApplyPropertyChange(vm, u.ChangeSet)
			g.boot(ctx, vm)
		}
		return false
	})
}

// boot schedules the IP report for a powered-on VM whose guest has not
// reported the address its metadata asks for.
func (g *Guest) boot(ctx context.Context, vm *mo.VirtualMachine) {
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || vm.Config == nil {
		return
	}
	ip := metadataIP(vm.Config.ExtraConfig)
	if ip == "" || (vm.Guest != nil && vm.Guest.IpAddress == ip) {
		return
	}
	g.mu.Lock()
	if g.reported[vm.Self] == ip {
		g.mu.Unlock()
		return
	}
	g.reported[vm.Self] = ip
	g.mu.Unlock()
	ref := vm.Self
	time.AfterFunc(g.BootDelay, func() {
		task, err := object.NewVirtualMachine(g.Client, ref).Reconfigure(ctx, types.VirtualMachineConfigSpec{
			ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: "SET.guest.ipAddress", Value: ip}},
		})
		if err == nil {
			err = task.WaitEx(ctx)
		}
		if err != nil {
			g.mu.Lock()
			delete(g.reported, ref) // the VM may be gone; try again if it is not
			g.mu.Unlock()
		}
	})
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
