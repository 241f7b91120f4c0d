package tanzukubernetesrelease

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/tkrname"
)

// DerivedLabel marks the TanzuKubernetesReleases this controller derives
// from the content library; it deletes only those when their images go, so
// releases an administrator writes by hand are left alone.
const DerivedLabel = "vsphere.opensupervisor.io/content-library-release"

// OS labels of a release, vSphere's: its default node image's OS. Its
// version prefixes are labels too (tkrname.PrefixLabels).
const (
	LabelOSType    = "os-type"
	LabelOSName    = "os-name"
	LabelOSVersion = "os-version"
	LabelOSArch    = "os-arch"
)

// Reconciler keeps one TanzuKubernetesRelease per release the content
// library's node images carry.
//
// Why from the ClusterVirtualMachineImages and not the library items
// directly: the catalog already mirrors the library (and deletes an
// image whose item is gone), a release must name its node image as a
// ClusterVirtualMachineImage for VMs to be cloned from it, and this way
// the controller never needs vCenter, so it runs wherever the images are
// published, and vSphere's own TKR controller derives releases from the
// VirtualMachineImages in the same way.
type Reconciler struct {
	Client client.Client
}

// +kubebuilder:rbac:groups=run.tanzu.vmware.com,resources=tanzukubernetesreleases;tanzukubernetesreleases/status,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=vmoperator.vmware.com,resources=clustervirtualmachineimages,verbs=get;list;watch

// SetupWithManager registers the controller. An image change revisits the
// release it carries and every other one: a release coming or going
// changes the updates the others list (there are a few dozen).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	everyRelease := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		names := map[string]bool{}
		if img, ok := tkrname.Parse(obj.GetName()); ok {
			names[img.Release] = true
		}
		var images vmopv1.ClusterVirtualMachineImageList
		if err := r.Client.List(ctx, &images); err == nil {
			for _, img := range releaseImages(images.Items) {
				names[img.Release] = true
			}
		}
		var releases runv1.TanzuKubernetesReleaseList
		if err := r.Client.List(ctx, &releases, client.HasLabels{DerivedLabel}); err == nil {
			for _, tkr := range releases.Items {
				names[tkr.Name] = true
			}
		}
		out := make([]reconcile.Request, 0, len(names))
		for name := range names {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
		}
		return out
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("tanzukubernetesrelease").
		For(&runv1.TanzuKubernetesRelease{}).
		Watches(&vmopv1.ClusterVirtualMachineImage{}, everyRelease).
		Complete(r)
}

// Reconcile derives one release from the images that carry it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("TanzuKubernetesRelease", req.Name)
	ctx = ctrl.LoggerInto(ctx, log)
	var list vmopv1.ClusterVirtualMachineImageList
	if err := r.Client.List(ctx, &list); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to list ClusterVirtualMachineImages: %w", err)
	}
	images := releaseImages(list.Items)
	var own []image
	for _, img := range images {
		if img.Release == req.Name {
			own = append(own, img)
		}
	}
	if len(own) == 0 {
		return ctrl.Result{}, r.reconcileDelete(ctx, req.Name)
	}
	return ctrl.Result{}, r.reconcileNormal(ctx, req.Name, own, images)
}

// reconcileDelete removes a derived release none of whose images is left.
func (r *Reconciler) reconcileDelete(ctx context.Context, name string) error {
	tkr := &runv1.TanzuKubernetesRelease{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, tkr); err != nil {
		return client.IgnoreNotFound(err)
	}
	if _, derived := tkr.Labels[DerivedLabel]; !derived || !tkr.DeletionTimestamp.IsZero() {
		return nil // written by hand, or already going
	}
	ctrl.LoggerFrom(ctx).Info("Deleting TanzuKubernetesRelease: its last node image left the content library")
	if err := r.Client.Delete(ctx, tkr); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("failed to delete TanzuKubernetesRelease %s: %w", name, err)
	}
	return nil
}

// reconcileNormal writes the release's spec from its images (own, the
// default first) and its status.
func (r *Reconciler) reconcileNormal(ctx context.Context, name string, own, all []image) error {
	tkr := &runv1.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: name}}
	op, err := controllerutil.CreateOrPatch(ctx, r.Client, tkr, func() error {
		if tkr.Labels == nil {
			tkr.Labels = map[string]string{}
		}
		tkr.Labels[DerivedLabel] = "true"
		for k, v := range osLabels(own[0]) {
			tkr.Labels[k] = v
		}
		for _, prefix := range tkrname.PrefixLabels(name) {
			if len(validation.IsQualifiedName(prefix)) == 0 {
				tkr.Labels[prefix] = ""
			}
		}
		tkr.Spec = Spec(name, imageNames(own))
		// As on vSphere, the release is owned by its images: the garbage
		// collector removes it too once the last one is gone.
		var refs []metav1.OwnerReference
		for _, img := range own {
			refs = append(refs, metav1.OwnerReference{APIVersion: vmopv1.GroupVersion.String(), Kind: "ClusterVirtualMachineImage",
				Name: img.Object.Name, UID: img.Object.UID})
		}
		tkr.OwnerReferences = refs
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to write TanzuKubernetesRelease %s: %w", name, err)
	}
	if op != controllerutil.OperationResultNone {
		ctrl.LoggerFrom(ctx).V(4).Info("Wrote TanzuKubernetesRelease", "operation", op)
	}

	before := tkr.DeepCopy()
	now := metav1.Now()
	tkr.Status.Conditions.Set(readyCondition(own), now)
	tkr.Status.Conditions.Set(runv1.Condition{Type: runv1.ReleaseCompatibleCondition, Status: corev1.ConditionTrue}, now)
	tkr.Status.Conditions.Set(runv1.Condition{Type: runv1.ReleaseValidCondition, Status: corev1.ConditionTrue}, now)
	tkr.Status.Conditions.Set(updatesCondition(tkr.Spec.Version, all), now)
	if equality.Semantic.DeepEqual(before.Status, tkr.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, tkr, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("failed to update the status of TanzuKubernetesRelease %s: %w", name, err)
	}
	return nil
}

// Spec is the spec of release name whose node images are images (the
// ClusterVirtualMachineImages' names, the default first): version and
// Kubernetes build from the name, the images as its OS images.
func Spec(name string, images []string) runv1.TanzuKubernetesReleaseSpec {
	version := tkrname.Version(name)
	spec := runv1.TanzuKubernetesReleaseSpec{Version: version, Kubernetes: runv1.KubernetesSpec{Version: tkrname.KubernetesVersion(version)}}
	for _, img := range images {
		spec.OSImages = append(spec.OSImages, corev1.LocalObjectReference{Name: img})
	}
	return spec
}

// image is a ClusterVirtualMachineImage that carries a release.
type image struct {
	tkrname.Image
	Object *vmopv1.ClusterVirtualMachineImage
}

// releaseImages are the images that carry a release, each release's
// Photon image first (vSphere's default OS), then by name.
func releaseImages(items []vmopv1.ClusterVirtualMachineImage) []image {
	var out []image
	for i := range items {
		// The object name is the item name made a valid name (lowercase,
		// "+" spelt "---"), so the release parsed from it is one too.
		if img, ok := tkrname.Parse(items[i].Name); ok && items[i].DeletionTimestamp.IsZero() {
			out = append(out, image{Image: img, Object: &items[i]})
		}
	}
	slices.SortFunc(out, func(a, b image) int {
		return cmp.Or(strings.Compare(a.Release, b.Release), cmp.Compare(osRank(a), osRank(b)), strings.Compare(a.Item, b.Item))
	})
	return out
}

func osRank(img image) int {
	if img.OSName == "photon" {
		return 0
	}
	return 1
}

func imageNames(images []image) []string {
	out := make([]string, 0, len(images))
	for _, img := range images {
		out = append(out, img.Object.Name)
	}
	return out
}

func osLabels(img image) map[string]string {
	return map[string]string{LabelOSType: "linux", LabelOSName: img.OSName, LabelOSVersion: img.OSVersion, LabelOSArch: "amd64"}
}

// readyCondition: Ready while one of the release's images is published
// (the catalog's ProviderReady; an image without conditions yet counts as
// published, it is there).
func readyCondition(own []image) runv1.Condition {
	for _, img := range own {
		c := meta.FindStatusCondition(img.Object.Status.Conditions, vmopv1.VirtualMachineImageProviderReadyCondition)
		if c == nil || c.Status == metav1.ConditionTrue {
			return runv1.Condition{Type: runv1.ReleaseReadyCondition, Status: corev1.ConditionTrue}
		}
	}
	return runv1.Condition{Type: runv1.ReleaseReadyCondition, Status: corev1.ConditionFalse, Severity: runv1.ConditionSeverityWarning,
		Reason: runv1.NodeImageNotFoundReason, Message: fmt.Sprintf("no node image of the release is ready in the content library (%s)", strings.Join(imageNames(own), ", "))}
}

// updatesCondition lists the releases a cluster on version may move to:
// newer ones of the same minor or the next (kubeadm upgrades one minor at
// a time), oldest first.
func updatesCondition(version string, all []image) runv1.Condition {
	own, err := rules.ParseVersion(version)
	if err != nil {
		return runv1.Condition{Type: runv1.ReleaseUpdatesAvailableCondition, Status: corev1.ConditionFalse}
	}
	type candidate struct {
		version string
		parsed  rules.Version
	}
	var newer []candidate
	seen := map[string]bool{}
	for _, img := range all {
		v, err := rules.ParseVersion(img.Version())
		if err != nil || seen[img.Release] || v.Compare(own) <= 0 || v.Major() != own.Major() || v.Minor() > own.Minor()+1 {
			continue
		}
		seen[img.Release] = true
		newer = append(newer, candidate{img.Version(), v})
	}
	if len(newer) == 0 {
		return runv1.Condition{Type: runv1.ReleaseUpdatesAvailableCondition, Status: corev1.ConditionFalse}
	}
	slices.SortFunc(newer, func(a, b candidate) int { return a.parsed.Compare(b.parsed) })
	versions := make([]string, 0, len(newer))
	for _, c := range newer {
		versions = append(versions, c.version)
	}
	return runv1.Condition{Type: runv1.ReleaseUpdatesAvailableCondition, Status: corev1.ConditionTrue, Message: "[" + strings.Join(versions, " ") + "]"}
}
