package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/rest"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/tkrname"
	"github.com/open-supervisor/supervisor/providers/vsphere/session"
)

// ManagedByLabel marks images this package publishes (and may delete).
const ManagedByLabel = "vsphere.opensupervisor.io/content-library"

// ImageSync publishes a content library's items as ClusterVirtualMachineImages.
type ImageSync struct {
	Client  client.Client
	Session *session.Session
	// Library is the content library's name.
	Library string
	// Interval between syncs; zero syncs once.
	Interval time.Duration
}

// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=clustervirtualmachineimages;clustervirtualmachineimages/status,verbs=get;list;watch;create;update;patch;delete

// Start syncs now and then every Interval until ctx ends (manager.Runnable).
func (s *ImageSync) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("imagesync").WithValues("library", s.Library)
	for {
		if err := s.Sync(ctx); err != nil {
			log.Error(err, "Failed to sync images from the content library")
		}
		if s.Interval == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.Interval):
		}
	}
}

// NeedLeaderElection: only the leader writes images.
func (s *ImageSync) NeedLeaderElection() bool { return true }

// Sync makes the images match the library's items once.
func (s *ImageSync) Sync(ctx context.Context) error {
	var items []library.Item
	err := s.Session.WithREST(ctx, func(rc *rest.Client) error {
		m := library.NewManager(rc)
		lib, err := m.GetLibraryByName(ctx, s.Library)
		if err != nil {
			return fmt.Errorf("failed to find content library %q: %w", s.Library, err)
		}
		items, err = m.GetLibraryItems(ctx, lib.ID)
		if err != nil {
			return fmt.Errorf("failed to list the items of content library %q: %w", s.Library, err)
		}
		return nil
	})
	if err != nil {
		return err
	}

	want := map[string]bool{}
	for _, item := range items {
		name := ImageName(item.Name)
		if name == "" {
			ctrl.LoggerFrom(ctx).Info("Skipping library item whose name cannot be an object name", "item", item.Name)
			continue
		}
		want[name] = true
		if err := s.ensureImage(ctx, name, item); err != nil {
			return err
		}
	}

	var existing vmopv1.ClusterVirtualMachineImageList
	if err := s.Client.List(ctx, &existing, client.MatchingLabels{ManagedByLabel: s.Library}); err != nil {
		return fmt.Errorf("failed to list images: %w", err)
	}
	for i := range existing.Items {
		if !want[existing.Items[i].Name] {
			if err := s.Client.Delete(ctx, &existing.Items[i]); client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("failed to delete image %s: %w", existing.Items[i].Name, err)
			}
		}
	}
	return nil
}

// ensureImage creates or updates one image; it tolerates a concurrent sync
// (another replica, or a manual Sync) doing the same.
func (s *ImageSync) ensureImage(ctx context.Context, name string, item library.Item) error {
	return retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error { return s.ensureImageOnce(ctx, name, item) })
}

func (s *ImageSync) ensureImageOnce(ctx context.Context, name string, item library.Item) error {
	img := &vmopv1.ClusterVirtualMachineImage{}
	err := s.Client.Get(ctx, client.ObjectKey{Name: name}, img)
	if apierrors.IsNotFound(err) {
		img = &vmopv1.ClusterVirtualMachineImage{ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{ManagedByLabel: s.Library},
		}}
		if err := s.Client.Create(ctx, img); err != nil {
			return fmt.Errorf("failed to create image %s: %w", name, err)
		}
	} else if err != nil {
		return fmt.Errorf("failed to get image %s: %w", name, err)
	}

	status := vmopv1.VirtualMachineImageStatus{
		Name:                   item.Name,
		Type:                   imageType(item.Type),
		ProviderItemID:         item.ID,
		ProviderContentVersion: item.ContentVersion,
		ProductInfo:            productInfo(item.Name),
		OSInfo:                 osInfo(item.Name),
		Conditions:             append([]metav1.Condition(nil), img.Status.Conditions...),
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: vmopv1.VirtualMachineImageProviderReadyCondition, Status: metav1.ConditionTrue, Reason: vmopv1.VirtualMachineImageAvailableReason,
		ObservedGeneration: img.Generation,
	})
	if equality.Semantic.DeepEqual(img.Status, status) {
		return nil
	}
	img.Status = status
	if err := s.Client.Status().Update(ctx, img); err != nil {
		return fmt.Errorf("failed to update the status of image %s: %w", name, err)
	}
	return nil
}

// ImageName turns a library item name into an object name, or "" if it cannot.
func ImageName(itemName string) string {
	name := strings.ToLower(strings.ReplaceAll(itemName, "+", "---"))
	name = strings.ReplaceAll(name, "_", "-")
	if len(validation.IsDNS1123Subdomain(name)) > 0 {
		return ""
	}
	return name
}

func imageType(itemType string) string {
	if itemType == library.ItemTypeVMTX {
		return vmopv1.ImageTypeVM
	}
	return vmopv1.ImageTypeOVF
}

// productInfo is what a node image's name says it carries, as vSphere's
// VirtualMachineImages show it: the Kubernetes build as the version
// (v1.30.8+vmware.1-fips) and the release as the full version
// (v1.30.8+vmware.1-fips-vkr.1). Images of no release have none.
func productInfo(itemName string) vmopv1.VirtualMachineImageProductInfo {
	img, ok := tkrname.Parse(itemName)
	if !ok {
		return vmopv1.VirtualMachineImageProductInfo{}
	}
	return vmopv1.VirtualMachineImageProductInfo{Product: "Kubernetes", Vendor: "VMware", Version: img.KubernetesVersion(), FullVersion: img.Version()}
}

// osInfo is the node image's guest OS, from its name.
func osInfo(itemName string) vmopv1.VirtualMachineImageOSInfo {
	img, ok := tkrname.Parse(itemName)
	if !ok {
		return vmopv1.VirtualMachineImageOSInfo{}
	}
	osType := "vmwarePhoton64Guest"
	if img.OSName == "ubuntu" {
		osType = "ubuntu64Guest"
	}
	return vmopv1.VirtualMachineImageOSInfo{Type: osType, Version: img.OSVersion}
}
