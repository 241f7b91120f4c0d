package inventory

import (
	"context"
	"fmt"
	"sync"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vapi/vcenter"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// imageCacheFolder holds one VM per content-library item, deployed on first
// use and cloned for every VM after (vm-operator's image cache does the same):
// a clone is one call, an OVF deploy is a dozen.
const imageCacheFolder = "vm-image-cache"

// Image is a VM that VMs of an image are cloned from.
type Image struct {
	// Template is the VM to clone.
	Template types.ManagedObjectReference
	// NIC is the template's first network card, re-backed on clone. It is
	// shared by every user of the image: copy it before changing it.
	NIC types.BaseVirtualDevice
	// Devices are the template's virtual hardware, which volumes' disks are
	// planned around; shared and read only, like NIC.
	Devices object.VirtualDeviceList
}

// TemplateImage returns the image for an inventory template VM by moref ID.
func (inv *Inventory) TemplateImage(ctx context.Context, id string) (*Image, error) {
	return inv.cachedImage(ctx, "vm:"+id, func() (types.ManagedObjectReference, error) {
		return types.ManagedObjectReference{Type: "VirtualMachine", Value: id}, nil
	})
}

// LibraryImage returns the image for a content-library OVF item, deploying
// it into the image cache folder on first use. Deploys of one item are
// serialized; a deploy by another supervisor is found by name.
func (inv *Inventory) LibraryImage(ctx context.Context, itemID string, network object.NetworkReference, datastore types.ManagedObjectReference) (*Image, error) {
	return inv.cachedImage(ctx, "item:"+itemID, func() (types.ManagedObjectReference, error) {
		folder, err := ensureFolder(ctx, inv.Root, imageCacheFolder)
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		si := object.NewSearchIndex(inv.Session.Client)
		if ref, err := si.FindChild(ctx, folder, itemID); err != nil {
			return types.ManagedObjectReference{}, fmt.Errorf("failed to look up cached image %s: %w", itemID, err)
		} else if ref != nil {
			return ref.Reference(), nil
		}
		var ref *types.ManagedObjectReference
		err = inv.Session.WithREST(ctx, func(rc *rest.Client) error {
			var derr error
			ref, derr = vcenter.NewManager(rc).DeployLibraryItem(ctx, itemID, vcenter.Deploy{
				DeploymentSpec: vcenter.DeploymentSpec{
					Name:               itemID,
					AcceptAllEULA:      true,
					DefaultDatastoreID: datastore.Value,
					NetworkMappings:    []vcenter.NetworkMapping{{Key: "nic0", Value: network.Reference().Value}},
				},
				Target: vcenter.Target{ResourcePoolID: inv.Pool.Reference().Value, FolderID: folder.Reference().Value},
			})
			return derr
		})
		if err != nil {
			// Another supervisor may have deployed it meanwhile.
			if found, ferr := si.FindChild(ctx, folder, itemID); ferr == nil && found != nil {
				return found.Reference(), nil
			}
			return types.ManagedObjectReference{}, fmt.Errorf("failed to deploy content library item %s: %w", itemID, err)
		}
		return *ref, nil
	})
}

func (inv *Inventory) cachedImage(ctx context.Context, key string, locate func() (types.ManagedObjectReference, error)) (*Image, error) {
	inv.mu.Lock()
	if img, ok := inv.images[key]; ok {
		inv.mu.Unlock()
		return img, nil
	}
	lock, ok := inv.imageLocks[key]
	if !ok {
		lock = &sync.Mutex{}
		inv.imageLocks[key] = lock
	}
	inv.mu.Unlock()

	lock.Lock()
	defer lock.Unlock()
	inv.mu.Lock()
	img, ok := inv.images[key]
	inv.mu.Unlock()
	if ok {
		return img, nil
	}

	ref, err := locate()
	if err != nil {
		return nil, err
	}
	var vm mo.VirtualMachine
	if err := property.DefaultCollector(inv.Session.Client).RetrieveOne(ctx, ref, []string{"config.hardware.device"}, &vm); err != nil {
		return nil, fmt.Errorf("failed to read the devices of image VM %s: %w", ref.Value, err)
	}
	img = &Image{Template: ref}
	if vm.Config != nil {
		img.Devices = vm.Config.Hardware.Device
		if nics := img.Devices.SelectByType((*types.VirtualEthernetCard)(nil)); len(nics) > 0 {
			img.NIC = nics[0]
		}
	}
	inv.mu.Lock()
	inv.images[key] = img
	inv.mu.Unlock()
	return img, nil
}
