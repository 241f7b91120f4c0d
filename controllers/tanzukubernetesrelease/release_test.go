package tanzukubernetesrelease

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	runv1 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/templates"
)

func condition(tkr *runv1.TanzuKubernetesRelease, typ string) *runv1.Condition {
	for i := range tkr.Status.Conditions {
		if tkr.Status.Conditions[i].Type == typ {
			return &tkr.Status.Conditions[i]
		}
	}
	return nil
}

func imageOf(item string) *vmopv1.ClusterVirtualMachineImage {
	return &vmopv1.ClusterVirtualMachineImage{ObjectMeta: metav1.ObjectMeta{Name: item, UID: types.UID("uid-" + item)}}
}

// reconcileAll reconciles every name, as the image watch enqueues them.
func reconcileAll(t *testing.T, r *Reconciler, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: name}}); err != nil {
			t.Fatalf("reconciling %s: %v", name, err)
		}
	}
}

func getRelease(t *testing.T, c client.Client, name string) *runv1.TanzuKubernetesRelease {
	t.Helper()
	tkr := &runv1.TanzuKubernetesRelease{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: name}, tkr); err != nil {
		t.Fatalf("TanzuKubernetesRelease %s: %v", name, err)
	}
	return tkr
}

// A content library item of each published name form yields the release
// vSphere derives from it: name, version, Kubernetes build, node image and
// OS labels.
func TestReleasesFromPublishedItemNames(t *testing.T) {
	cases := []struct {
		item, name, version, kubernetes, osName string
	}{
		{"ob-18186591-photon-3-k8s-v1.20.7---vmware.1-tkg.1.7fb9067", "v1.20.7---vmware.1-tkg.1.7fb9067",
			"v1.20.7+vmware.1-tkg.1.7fb9067", "v1.20.7+vmware.1", "photon"},
		{"ob-18691651-tkgs-ova-ubuntu-2004-v1.20.8---vmware.1-tkg.2", "v1.20.8---vmware.1-tkg.2",
			"v1.20.8+vmware.1-tkg.2", "v1.20.8+vmware.1", "ubuntu"},
		{"tkgs-ova-ubuntu-2004-v1.23.8---vmware.3-tkg.1.ubuntu", "v1.23.8---vmware.3-tkg.1.ubuntu",
			"v1.23.8+vmware.3-tkg.1.ubuntu", "v1.23.8+vmware.3", "ubuntu"},
		{"ob-21961086-photon-3-amd64-vmi-k8s-v1.25.7---vmware.3-fips.1-tkg.1", "v1.25.7---vmware.3-fips.1-tkg.1",
			"v1.25.7+vmware.3-fips.1-tkg.1", "v1.25.7+vmware.3-fips.1", "photon"},
		{"ob-24076161-ubuntu-2204-amd64-vmi-k8s-v1.30.1---vmware.1-fips-tkg.5", "v1.30.1---vmware.1-fips-tkg.5",
			"v1.30.1+vmware.1-fips-tkg.5", "v1.30.1+vmware.1-fips", "ubuntu"},
		{"ob-24481438-ubuntu-2204-amd64-v1.30.8---vmware.1-fips-vkr.1", "v1.30.8---vmware.1-fips-vkr.1",
			"v1.30.8+vmware.1-fips-vkr.1", "v1.30.8+vmware.1-fips", "ubuntu"},
		{"photon-5-amd64-v1.34.1---vmware.1-vkr.4", "v1.34.1---vmware.1-vkr.4",
			"v1.34.1+vmware.1-vkr.4", "v1.34.1+vmware.1", "photon"},
	}
	b := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithStatusSubresource(&runv1.TanzuKubernetesRelease{})
	// An image that carries no release makes none.
	b.WithObjects(imageOf("ubuntu-22.04-server"))
	for _, c := range cases {
		b.WithObjects(imageOf(c.item))
	}
	cl := b.Build()
	r := &Reconciler{Client: cl}
	for _, c := range cases {
		reconcileAll(t, r, c.name)
		tkr := getRelease(t, cl, c.name)
		if tkr.Spec.Version != c.version || tkr.Spec.Kubernetes.Version != c.kubernetes ||
			len(tkr.Spec.OSImages) != 1 || tkr.Spec.OSImages[0].Name != c.item {
			t.Errorf("%s: spec %+v, want version %s, Kubernetes %s, node image %s", c.item, tkr.Spec, c.version, c.kubernetes, c.item)
		}
		_, minorLabel := tkr.Labels[c.name[:strings.Index(c.name[3:], ".")+3]]
		_, fullLabel := tkr.Labels[c.name]
		if tkr.Labels[LabelOSName] != c.osName || tkr.Labels[DerivedLabel] == "" || !minorLabel || !fullLabel {
			t.Errorf("%s: labels %v, want os-name %s", c.item, tkr.Labels, c.osName)
		}
		if len(tkr.OwnerReferences) != 1 || tkr.OwnerReferences[0].Name != c.item {
			t.Errorf("%s: owners %+v, want its image", c.item, tkr.OwnerReferences)
		}
		if ready := condition(tkr, runv1.ReleaseReadyCondition); ready == nil || ready.Status != corev1.ConditionTrue {
			t.Errorf("%s: Ready %+v", c.item, ready)
		}
	}
	var list runv1.TanzuKubernetesReleaseList
	if err := cl.List(context.Background(), &list); err != nil || len(list.Items) != len(cases) {
		t.Errorf("%d releases for %d items (%v)", len(list.Items), len(cases), err)
	}
}

// A release published for two OSes names the Photon image and is owned by
// both; it stays while one is left, and goes with the last one.
func TestReleaseFollowsItsImages(t *testing.T) {
	ctx := context.Background()
	photon := imageOf("ob-21554409-photon-3-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4")
	ubuntu := imageOf("ob-21552850-ubuntu-2004-amd64-vmi-k8s-v1.24.9---vmware.1-tkg.4")
	older := imageOf("photon-3-k8s-v1.23.8---vmware.3-tkg.1")
	cl := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(ubuntu, photon, older).
		WithStatusSubresource(&runv1.TanzuKubernetesRelease{}).Build()
	r := &Reconciler{Client: cl}
	const name, olderName = "v1.24.9---vmware.1-tkg.4", "v1.23.8---vmware.3-tkg.1"
	reconcileAll(t, r, name, olderName)

	tkr := getRelease(t, cl, name)
	if len(tkr.Spec.OSImages) != 2 || tkr.Spec.OSImages[0].Name != photon.Name || tkr.Spec.OSImages[1].Name != ubuntu.Name || len(tkr.OwnerReferences) != 2 {
		t.Errorf("OS images %+v, owners %+v; want the Photon image first, owned by both", tkr.Spec.OSImages, tkr.OwnerReferences)
	}
	if updates := condition(getRelease(t, cl, olderName), runv1.ReleaseUpdatesAvailableCondition); updates == nil ||
		updates.Status != corev1.ConditionTrue || updates.Message != "[v1.24.9+vmware.1-tkg.4]" {
		t.Errorf("%s: UpdatesAvailable %+v, want [v1.24.9+vmware.1-tkg.4]", olderName, updates)
	}

	if err := cl.Delete(ctx, photon); err != nil {
		t.Fatal(err)
	}
	reconcileAll(t, r, name)
	if tkr := getRelease(t, cl, name); len(tkr.Spec.OSImages) != 1 || tkr.Spec.OSImages[0].Name != ubuntu.Name || len(tkr.OwnerReferences) != 1 {
		t.Errorf("with only the Ubuntu image left: OS images %+v, owners %+v", tkr.Spec.OSImages, tkr.OwnerReferences)
	}

	if err := cl.Delete(ctx, ubuntu); err != nil {
		t.Fatal(err)
	}
	reconcileAll(t, r, name, olderName)
	if err := cl.Get(ctx, client.ObjectKey{Name: name}, &runv1.TanzuKubernetesRelease{}); !apierrors.IsNotFound(err) {
		t.Errorf("the release of removed images is still there: %v", err)
	}
	if updates := condition(getRelease(t, cl, olderName), runv1.ReleaseUpdatesAvailableCondition); updates == nil || updates.Status != corev1.ConditionFalse {
		t.Errorf("%s still lists a removed release: %+v", olderName, updates)
	}
}

// A release written by hand (no image carries it) is left alone.
func TestHandWrittenReleaseIsLeftAlone(t *testing.T) {
	mine := &runv1.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: "v1.30.0---vmware.1-tkg.1"},
		Spec: runv1.TanzuKubernetesReleaseSpec{Version: "v1.30.0+vmware.1-tkg.1"}}
	cl := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(mine).Build()
	reconcileAll(t, &Reconciler{Client: cl}, mine.Name)
	getRelease(t, cl, mine.Name)
}

// Every seeded release is derived from the seeded images; a release is
// Ready once one of its images is published, and lists as updates the
// newer releases of its minor and the next (the newest lists none).
func TestEverySeededReleaseIsDerived(t *testing.T) {
	ctx := context.Background()
	b := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithStatusSubresource(&runv1.TanzuKubernetesRelease{})
	for _, item := range templates.NodeImages {
		img := imageOf(item)
		img.Status.Conditions = []metav1.Condition{{Type: vmopv1.VirtualMachineImageProviderReadyCondition, Status: metav1.ConditionTrue,
			Reason: vmopv1.VirtualMachineImageAvailableReason, LastTransitionTime: metav1.Now()}}
		b.WithObjects(img)
	}
	cl := b.Build()
	r := &Reconciler{Client: cl}
	for _, rel := range templates.Releases {
		reconcileAll(t, r, rel.ObjectName())
	}
	var list runv1.TanzuKubernetesReleaseList
	if err := cl.List(ctx, &list); err != nil || len(list.Items) != len(templates.Releases) {
		t.Fatalf("%d TanzuKubernetesReleases derived for %d seeded (%v)", len(list.Items), len(templates.Releases), err)
	}
	newest := templates.Newest()
	for i, rel := range templates.Releases {
		tkr := getRelease(t, cl, rel.ObjectName())
		if tkr.Spec.Version != rel.Version || tkr.Spec.Kubernetes.Version != rel.KubernetesVersion || len(tkr.Spec.OSImages) != len(rel.Images) ||
			tkr.Spec.OSImages[0].Name != rel.ImageName() {
			t.Errorf("%s: spec %+v", rel.ObjectName(), tkr.Spec)
		}
		if ready := condition(tkr, runv1.ReleaseReadyCondition); ready == nil || ready.Status != corev1.ConditionTrue {
			t.Errorf("%s: Ready %+v", rel.ObjectName(), ready)
		}
		updates := condition(tkr, runv1.ReleaseUpdatesAvailableCondition)
		if rel.Version == newest.Version {
			if updates == nil || updates.Status != corev1.ConditionFalse {
				t.Errorf("the newest release lists updates: %+v", updates)
			}
			continue
		}
		if next := templates.Releases[i+1].Version; updates == nil || updates.Status != corev1.ConditionTrue || !strings.Contains(updates.Message, next) {
			t.Errorf("%s: UpdatesAvailable %+v does not list %s", rel.ObjectName(), updates, next)
		}
	}
}
