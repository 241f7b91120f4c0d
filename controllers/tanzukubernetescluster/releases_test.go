package tanzukubernetescluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/blang/semver/v4"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/yaml"

	kubeadmtypes "sigs.k8s.io/cluster-api/bootstrap/kubeadm/pkg/types"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	"github.com/open-supervisor/supervisor/internal/tkrname"
	"github.com/open-supervisor/supervisor/providers/vsphere/catalog"
	"github.com/open-supervisor/supervisor/templates"
	"github.com/open-supervisor/supervisor/test/wait"
)

// Each shipped release names the image the content library sync publishes
// for its node template.
func TestShippedReleasesNameTheirImages(t *testing.T) {
	releases := ShippedReleases()
	if len(releases) != len(templates.Releases) {
		t.Fatalf("%d releases for %d shipped", len(releases), len(templates.Releases))
	}
	for i, r := range releases {
		rel, err := releaseOf(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := catalog.ImageName(templates.Releases[i].ImageName()); rel.Image != want || want == "" {
			t.Errorf("%s names image %q, the catalog publishes %q", r.Name, rel.Image, want)
		}
		if !strings.HasPrefix(rel.Version, rel.KubernetesVersion+"+") {
			t.Errorf("%s: Kubernetes version %q does not prefix %q", r.Name, rel.KubernetesVersion, rel.Version)
		}
	}
}

// A cluster whose release is gone fails with a condition naming it, and
// nothing is created.
func TestReconcileMissingRelease(t *testing.T) {
	ctx := context.Background()
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "tkc01", Finalizers: []string{Finalizer}},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{VMClass: "guaranteed-small", StorageClass: "k8s-storage",
				TKR: runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: "v1.30.0---vmware.1-tkg.1"}}},
		}},
	}
	c := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(tkc).WithStatusSubresource(tkc).Build()
	r := &Reconciler{Client: c}
	res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(tkc)})
	// Retrying cannot help; the watches of the cluster and its releases
	// bring it back when either changes.
	if !errors.Is(err, reconcile.TerminalError(nil)) || !res.IsZero() {
		t.Fatalf("Reconcile = %+v, %v; want a terminal error and no requeue", res, err)
	}
	got := &runv1alpha3.TanzuKubernetesCluster{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tkc), got); err != nil {
		t.Fatal(err)
	}
	ready := condition(got, runv1alpha3.ReadyCondition)
	if got.Status.Phase != runv1alpha3.PhaseFailed || ready == nil || ready.Reason != runv1alpha3.ProvisioningFailedReason ||
		!strings.Contains(ready.Message, "v1.30.0---vmware.1-tkg.1") {
		t.Errorf("phase %q, Ready %+v", got.Status.Phase, ready)
	}
}

// A cluster follows the release it names without polling: when the
// release stops naming a node image the cluster fails saying so, and when
// the release is fixed the cluster is provisioned again.
func TestClusterFollowsItsRelease(t *testing.T) {
	ctx := context.Background()
	ns := newVSphereNamespace(t)
	shipped := ShippedReleases()[0]
	tkr := &runv1alpha3.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: shipped.Name + "-" + ns}, Spec: shipped.Spec}
	if err := testClient.Create(ctx, tkr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), tkr) })
	ref := runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: tkr.Name}}
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "follows"},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage", TKR: ref},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "best-effort-small", StorageClass: "k8s-storage", TKR: ref}}},
		}},
	}
	if err := testClient.Create(ctx, tkc); err != nil {
		t.Fatal(err)
	}
	phase := func(want runv1alpha3.TanzuKubernetesClusterPhase, message string) wait.Condition {
		return func() (bool, error) {
			hub := getHub(t, ns, tkc.Name)
			ready := condition(hub, runv1alpha3.ReadyCondition)
			if hub.Status.Phase != want || ready == nil || !strings.Contains(ready.Message, message) {
				return false, fmt.Errorf("phase %q, Ready %+v", hub.Status.Phase, ready)
			}
			return true, nil
		}
	}
	wait.For(t, 90*time.Second, "the cluster to be created", phase(runv1alpha3.PhaseCreating, ""))

	setImage := func(images []corev1.LocalObjectReference) {
		t.Helper()
		base := tkr.DeepCopy()
		tkr.Spec.OSImages = images
		if err := testClient.Patch(ctx, tkr, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
	}
	image := shipped.Spec.OSImages
	setImage(nil)
	wait.For(t, 90*time.Second, "the cluster to fail on its release", phase(runv1alpha3.PhaseFailed, "names no node image"))
	setImage(image)
	wait.For(t, 90*time.Second, "the cluster to be provisioned again", phase(runv1alpha3.PhaseCreating, ""))

	deleteAndWait(t, ns, tkc.Name)
}

// shippedFacts are the facts of a namespace of a supervisor that publishes
// exactly the shipped releases, read through the webhooks' lookups.
func shippedFacts(t *testing.T) rules.Facts {
	t.Helper()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns1"}},
		&vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Name: "guaranteed-small", Namespace: "ns1"}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "ns1-storagequota", Namespace: "ns1"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"k8s-storage" + storageQuotaSuffix: resource.MustParse("100Gi")}}},
	}
	for _, r := range ShippedReleases() {
		objs = append(objs, r)
	}
	reader := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(objs...).Build()
	f, err := rules.Gather(context.Background(), &ClientLookups{Reader: reader}, "ns1")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Every shipped release is one Cluster API v1.14's kubeadm bootstrap writes
// a configuration for: its node image's kubelet version from v1.22 on
// (v1.22.9+vmware.1, v1.30.8+vmware.1-fips), v1.22.0 below.
func TestShippedReleasesFitClusterAPI(t *testing.T) {
	for _, tkr := range ShippedReleases() {
		rel, err := releaseOf(tkr, nil)
		if err != nil {
			t.Fatal(err)
		}
		own := semver.MustParse(strings.TrimPrefix(rel.KubernetesVersion, "v"))
		want := tkrname.KubernetesVersion(rel.Version)
		if !strings.HasPrefix(want, rel.KubernetesVersion+"+vmware.") {
			t.Errorf("%s: node version %s is not %s with VMware's build", rel.Name, want, rel.KubernetesVersion)
		}
		if own.LT(minClusterAPIVersion) {
			want = "v1.22.0"
		}
		if got := rel.ClusterAPIVersion(); got != want {
			t.Errorf("%s is given to Cluster API as %s, want %s", rel.Name, got, want)
		}
		if _, err := kubeadmtypes.KubeVersionToKubeadmAPIGroupVersion(semver.MustParse(strings.TrimPrefix(rel.ClusterAPIVersion(), "v"))); err != nil {
			t.Errorf("%s: Cluster API's kubeadm bootstrap refuses %s: %v", rel.Name, rel.ClusterAPIVersion(), err)
		}
	}
}

// A cluster naming no release gets the newest shipped one, whatever API
// version it is written in; the seed manifest's v1.18 hint still resolves
// to the v1.18 release.
func TestNewestShippedReleaseIsTheDefault(t *testing.T) {
	f := shippedFacts(t)
	newest := templates.Newest()

	hub := &runv1alpha3.TanzuKubernetesCluster{Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
		NodePools: []runv1alpha3.NodePool{{Name: "workers"}},
	}}}
	hub.Default(f)
	if ref := hub.Spec.Topology.ControlPlane.TKR.Reference; ref == nil || ref.Name != newest.ObjectName() {
		t.Errorf("v1alpha3: the control plane defaulted to %+v, want %s", ref, newest.ObjectName())
	}
	if ref := hub.Spec.Topology.NodePools[0].TKR.Reference; ref == nil || ref.Name != newest.ObjectName() {
		t.Errorf("v1alpha3: the pool defaulted to %+v, want %s", ref, newest.ObjectName())
	}

	v1 := &runv1alpha1.TanzuKubernetesCluster{}
	v1.Default(f)
	if v1.Spec.Distribution.Version != newest.Version {
		t.Errorf("v1alpha1 without a version resolved to %q, want %s", v1.Spec.Distribution.Version, newest.Version)
	}

	data, err := os.ReadFile("../../templates/samples/tkc-v1alpha1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seed := &runv1alpha1.TanzuKubernetesCluster{}
	if err := yaml.UnmarshalStrict(data, seed); err != nil {
		t.Fatal(err)
	}
	seed.Default(f)
	// The newest of VMware's v1.18 releases.
	if seed.Spec.Distribution.Version != "v1.18.19+vmware.1-tkg.1.17af790" {
		t.Errorf("the seed manifest resolved to %q, want v1.18.19+vmware.1-tkg.1.17af790", seed.Spec.Distribution.Version)
	}
	if errs := seed.ValidateCreate(f); len(errs) != 0 {
		t.Errorf("the seed manifest is refused: %v", errs)
	}
}

// Between shipped releases a cluster may go up one minor at a time, from
// the seed's v1.18 to the newest; skipping a minor is refused at the field
// that names the release.
func TestUpgradesBetweenShippedReleases(t *testing.T) {
	f := shippedFacts(t)
	onRelease := func(name string) *runv1alpha3.TanzuKubernetesCluster {
		c := &runv1alpha3.TanzuKubernetesCluster{Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{VMClass: "guaranteed-small", StorageClass: "k8s-storage",
				TKR: runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: name}}},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage"}}},
		}}}
		c.Default(f)
		return c
	}
	minor := func(r templates.Release) uint64 {
		v, err := rules.ParseVersion(r.Version)
		if err != nil {
			t.Fatal(err)
		}
		return v.Minor()
	}
	releases := templates.Releases
	for i := 0; i+1 < len(releases); i++ {
		from, to := releases[i].ObjectName(), releases[i+1].ObjectName()
		if errs := onRelease(to).ValidateUpdate(onRelease(from), f); len(errs) != 0 {
			t.Errorf("%s → %s refused: %v", from, to, errs)
		}
		// The first release two minors up skips one.
		j := i + 1
		for j < len(releases) && minor(releases[j]) < minor(releases[i])+2 {
			j++
		}
		if j == len(releases) {
			continue
		}
		skip := releases[j].ObjectName()
		errs := onRelease(skip).ValidateUpdate(onRelease(from), f)
		fields := map[string]bool{}
		for _, e := range errs {
			fields[e.Field] = true
			if !strings.Contains(e.Detail, "one minor version at a time") {
				t.Errorf("%s → %s: %s: %q does not say why", from, skip, e.Field, e.Detail)
			}
		}
		// The pools follow the control plane's release, so both fields are named.
		if len(errs) != 2 || !fields["spec.topology.controlPlane.tkr.reference.name"] || !fields["spec.topology.nodePools[0].tkr.reference.name"] {
			t.Errorf("%s → %s skips a minor: want errors at the control plane's and the pool's tkr.reference.name, got %v", from, skip, errs)
		}
	}
}

// newestMatching is the newest seeded release a version hint prefixes
// (templates.Releases is sorted oldest first).
func newestMatching(hint string) templates.Release {
	var out templates.Release
	for _, r := range templates.Releases {
		if rules.HintMatches(hint, r.Version) {
			out = r
		}
	}
	return out
}

// seededImage is the node image (the Photon one) of a seeded release.
func seededImage(name string) string {
	for _, r := range templates.Releases {
		if r.ObjectName() == name {
			return r.ImageName()
		}
	}
	return "no seeded release " + name
}

// Every release seeded in the embedded library, VMware's published names
// among them, resolves in each TKC version as users name it: v1alpha1's
// distribution.fullVersion (with and without the leading "v") and
// distribution.version, v1alpha2's and v1alpha3's tkr.reference.name. The
// webhook's defaulting and validation accept it, and the controller builds
// the cluster on that release: its node image, and the version Cluster API
// is told.
func TestEverySeededReleaseResolves(t *testing.T) {
	f := shippedFacts(t)
	releases := map[string]release{}
	for _, tkr := range ShippedReleases() {
		r, err := releaseOf(tkr, nil)
		if err != nil {
			t.Fatal(err)
		}
		releases[r.Name] = r
	}
	v1Topology := runv1alpha1.Topology{
		ControlPlane: runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: "k8s-storage"},
		Workers:      runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: "k8s-storage"},
	}
	for _, rel := range templates.Releases {
		name := rel.ObjectName()
		var hubs []*runv1alpha3.TanzuKubernetesCluster
		hintOf := map[*runv1alpha3.TanzuKubernetesCluster]bool{}
		for what, d := range map[string]runv1alpha1.Distribution{
			"v1alpha1 fullVersion":               {Version: rel.Version},
			"v1alpha1 fullVersion without the v": {Version: strings.TrimPrefix(rel.Version, "v")},
			"v1alpha1 version":                   {VersionHint: rel.Version},
		} {
			c := &runv1alpha1.TanzuKubernetesCluster{Spec: runv1alpha1.TanzuKubernetesClusterSpec{Distribution: d, Topology: v1Topology}}
			c.Name, c.Namespace = "tkc", "ns1"
			c.Default(f)
			if errs := c.ValidateCreate(f); len(errs) != 0 {
				t.Errorf("%s %s refused: %v", what, name, errs)
				continue
			}
			hub := &runv1alpha3.TanzuKubernetesCluster{}
			if err := c.ConvertTo(hub); err != nil {
				t.Fatal(err)
			}
			hubs = append(hubs, hub)
			hintOf[hub] = d.Version == ""
		}

		ref := &corev1.ObjectReference{Name: name}
		v2 := &runv1alpha2.TanzuKubernetesCluster{Spec: runv1alpha2.TanzuKubernetesClusterSpec{Topology: runv1alpha2.Topology{
			ControlPlane: runv1alpha2.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage",
				TKR: runv1alpha2.TKRReference{Reference: ref.DeepCopy()}},
			NodePools: []runv1alpha2.NodePool{{Name: "workers", TopologySettings: runv1alpha2.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage", TKR: runv1alpha2.TKRReference{Reference: ref.DeepCopy()}}}},
		}}}
		v2.Name, v2.Namespace = "tkc", "ns1"
		if err := v2.Default(f); err != nil {
			t.Fatal(err)
		}
		if errs := v2.ValidateCreate(f); len(errs) != 0 {
			t.Errorf("v1alpha2 tkr.reference.name %s refused: %v", name, errs)
		} else {
			hub := &runv1alpha3.TanzuKubernetesCluster{}
			if err := v2.ConvertTo(hub); err != nil {
				t.Fatal(err)
			}
			hubs = append(hubs, hub)
		}

		v3 := &runv1alpha3.TanzuKubernetesCluster{Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage",
				TKR: runv1alpha3.TKRReference{Reference: ref.DeepCopy()}},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](1), VMClass: "guaranteed-small", StorageClass: "k8s-storage", TKR: runv1alpha3.TKRReference{Reference: ref.DeepCopy()}}}},
		}}}
		v3.Name, v3.Namespace = "tkc", "ns1"
		v3.Default(f)
		if errs := v3.ValidateCreate(f); len(errs) != 0 {
			t.Errorf("v1alpha3 tkr.reference.name %s refused: %v", name, errs)
		} else {
			hubs = append(hubs, v3)
		}

		want := releases[name]
		for i, hub := range hubs {
			got := hub.Spec.Topology.ControlPlane.TKR.Reference
			if got != nil && got.Name != name && hintOf[hub] {
				// distribution.version is a semantic prefix: v1.21.6+vmware.1-tkg.1
				// picks the newest release it prefixes (v1.21.6+vmware.1-tkg.1.b3d708a),
				// as on vSphere; fullVersion names the exact one.
				if newest := newestMatching(rel.Version); got.Name == newest.ObjectName() {
					continue
				}
			}
			if got == nil || got.Name != name {
				t.Errorf("%s: cluster %d names release %+v", name, i, got)
				continue
			}
			o, err := desiredObjects(hub, releases)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if o.ControlPlane.Spec.Version != want.ClusterAPIVersion() {
				t.Errorf("%s: Cluster API is told %s, want %s", name, o.ControlPlane.Spec.Version, want.ClusterAPIVersion())
			}
			for _, tmpl := range o.MachineTemplates {
				if tmpl.Spec.Template.Spec.ImageName != rel.ImageName() {
					t.Errorf("%s: VMs cloned from %s, want %s", name, tmpl.Spec.Template.Spec.ImageName, rel.ImageName())
				}
			}
		}
	}
}

// A release that ships Photon and Ubuntu images clones nodes from the one
// the cluster's resolve-os-image annotation names, Photon by default.
func TestReleaseImageFollowsTheOSAnnotation(t *testing.T) {
	var both *runv1alpha3.TanzuKubernetesRelease
	for _, tkr := range ShippedReleases() {
		if len(tkr.Spec.OSImages) > 1 {
			both = tkr
			break
		}
	}
	if both == nil {
		t.Fatal("no shipped release has two OS images")
	}
	for value, os := range map[string]string{"": "photon", "os-name=ubuntu": "ubuntu", "os-name=photon": "photon"} {
		sel, err := rules.ParseOSSelector(value)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := releaseOf(both, sel)
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		if !strings.Contains(rel.Image, os) {
			t.Errorf("%q on %s clones from %s, want its %s image", value, both.Name, rel.Image, os)
		}
	}
	sel, _ := rules.ParseOSSelector("os-name=windows")
	if _, err := releaseOf(both, sel); err == nil || !strings.Contains(err.Error(), rules.ResolveOSImageAnnotation) {
		t.Errorf("an OS the release lacks gives %v, want an error naming the annotation", err)
	}
}
