package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/rest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	restclient "k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha2 "github.com/open-supervisor/supervisor/api/run/v1alpha2"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	"github.com/open-supervisor/supervisor/embedded/vcsim"
	"github.com/open-supervisor/supervisor/templates"
	"github.com/open-supervisor/supervisor/test/harness"
	"github.com/open-supervisor/supervisor/test/wait"
)

// The releases a supervisor offers are the ones its content library's
// items carry: every seeded release (VMware's published names among them)
// is derived and Ready, reads the same in v1alpha1, v1alpha2 and v1alpha3,
// lists in `kubectl get tkr` with vSphere's columns, is accepted when a
// TKC of any version names it, and goes when its item leaves the library.
func TestReleasesFromTheContentLibrary(t *testing.T) {
	h := harness.New(t, harness.Options{})
	m := h.StartManager(nil)
	ctx := context.Background()

	seeded := map[string]templates.Release{}
	for _, r := range templates.Releases {
		seeded[r.ObjectName()] = r
	}
	wait.For(t, harness.Timeout, "every seeded release derived and Ready", func() (bool, error) {
		var list runv1alpha3.TanzuKubernetesReleaseList
		if err := h.Client.List(ctx, &list); err != nil {
			return false, err
		}
		ready := 0
		for _, tkr := range list.Items {
			for _, c := range tkr.Status.Conditions {
				if _, ok := seeded[tkr.Name]; ok && c.Type == runv1alpha3.ReleaseReadyCondition && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready != len(seeded) {
			return false, fmt.Errorf("%d of %d seeded releases Ready", ready, len(seeded))
		}
		return true, nil
	})

	// Each version reads the release the item name says.
	for _, name := range []string{"v1.20.7---vmware.1-tkg.1.7fb9067", "v1.23.8---vmware.3-tkg.1", "v1.30.8---vmware.1-fips-vkr.1"} {
		rel := seeded[name]
		v3 := &runv1alpha3.TanzuKubernetesRelease{}
		v2 := &runv1alpha2.TanzuKubernetesRelease{}
		v1 := &runv1alpha1.TanzuKubernetesRelease{}
		for _, obj := range []client.Object{v3, v2, v1} {
			if err := h.Client.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
				t.Fatalf("reading %s as %T: %v", name, obj, err)
			}
		}
		if v3.Spec.Version != rel.Version || v3.Spec.Kubernetes.Version != rel.KubernetesVersion || len(v3.Spec.OSImages) != len(rel.Images) {
			t.Errorf("v1alpha3 %s: %+v", name, v3.Spec)
		}
		if s := v2.Spec; s.Version != rel.Version || s.KubernetesVersion != rel.KubernetesVersion || s.NodeImageRef == nil || s.NodeImageRef.Name != rel.ImageName() {
			t.Errorf("v1alpha2 %s: %+v", name, s)
		}
		if s := v1.Spec; s.Version != rel.Version || s.KubernetesVersion != rel.KubernetesVersion || s.NodeImageRef == nil || s.NodeImageRef.Name != rel.ImageName() {
			t.Errorf("v1alpha1 %s: %+v", name, s)
		}
	}

	// `kubectl get tkr` shows vSphere's columns.
	cols, row := releaseTableRow(t, "v1.30.8---vmware.1-fips-vkr.1")
	if strings.Join(cols, ",") != "Name,Version,Ready,Compatible,Created" || row[1] != "v1.30.8+vmware.1-fips-vkr.1" || row[2] != "True" || row[3] != "True" {
		t.Errorf("kubectl get tkr: columns %v, row %v", cols, row)
	}

	// TKCs of each version naming published releases are admitted.
	for _, manifest := range []string{`
apiVersion: run.tanzu.vmware.com/v1alpha1
kind: TanzuKubernetesCluster
metadata: {name: by-full-version}
spec:
  distribution: {fullVersion: v1.20.7+vmware.1-tkg.1.7fb9067}
  topology:
    controlPlane: {count: 1, class: guaranteed-small, storageClass: STORAGE}
    workers: {count: 1, class: guaranteed-small, storageClass: STORAGE}
`, `
apiVersion: run.tanzu.vmware.com/v1alpha2
kind: TanzuKubernetesCluster
metadata: {name: by-tkr-v1alpha2}
spec:
  topology:
    controlPlane: {replicas: 1, vmClass: guaranteed-small, storageClass: STORAGE, tkr: {reference: {name: v1.23.8---vmware.3-tkg.1}}}
    nodePools:
    - {name: workers, replicas: 1, vmClass: best-effort-medium, storageClass: STORAGE, tkr: {reference: {name: v1.23.8---vmware.3-tkg.1}}}
`, `
apiVersion: run.tanzu.vmware.com/v1alpha3
kind: TanzuKubernetesCluster
metadata: {name: by-tkr-v1alpha3}
spec:
  topology:
    controlPlane: {replicas: 1, vmClass: guaranteed-small, storageClass: STORAGE, tkr: {reference: {name: v1.30.8---vmware.1-fips-vkr.1}}}
    nodePools:
    - {name: workers, replicas: 1, vmClass: best-effort-medium, storageClass: STORAGE, tkr: {reference: {name: v1.30.8---vmware.1-fips-vkr.1}}}
`} {
		tkc := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(strings.ReplaceAll(manifest, "STORAGE", h.StorageClass)), &tkc.Object); err != nil {
			t.Fatal(err)
		}
		tkc.SetNamespace(h.Namespace)
		if err := h.Client.Create(ctx, tkc, client.DryRunAll); err != nil {
			t.Errorf("%s %s refused: %v", tkc.GetAPIVersion(), tkc.GetName(), err)
		}
	}

	// An item leaving the library takes its release with it, and a TKC
	// naming it is refused.
	const removed = "v1.21.2---vmware.1-tkg.1.ee25d55"
	deleteLibraryItem(t, h.Sim, seeded[removed].ImageName())
	if err := m.Provider.Images.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	wait.For(t, harness.Timeout, "the release of the removed item gone", func() (bool, error) {
		err := h.Client.Get(ctx, client.ObjectKey{Name: removed}, &runv1alpha3.TanzuKubernetesRelease{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, fmt.Errorf("still there (%v)", err)
	})
	gone := &runv1alpha1.TanzuKubernetesCluster{ObjectMeta: metav1.ObjectMeta{Namespace: h.Namespace, Name: "on-removed"},
		Spec: runv1alpha1.TanzuKubernetesClusterSpec{Distribution: runv1alpha1.Distribution{Version: "v1.21.2+vmware.1-tkg.1.ee25d55"},
			Topology: runv1alpha1.Topology{
				ControlPlane: runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: h.StorageClass},
				Workers:      runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: h.StorageClass},
			}}}
	if err := h.Client.Create(ctx, gone, client.DryRunAll); err == nil || !strings.Contains(err.Error(), "spec.distribution.fullVersion") {
		t.Errorf("a TKC naming the removed release: want a refusal naming spec.distribution.fullVersion, got %v", err)
	}
}

// A TkgServiceConfiguration written in v1alpha3 without defaultCNI gets
// antrea, and reads the same in every version.
func TestServiceConfigurationV1alpha3(t *testing.T) {
	ctx := context.Background()
	c := harness.New(t, harness.Options{}).Client
	cfg := &runv1alpha3.TkgServiceConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "t-" + strings.ToLower(t.Name())},
		Spec: runv1alpha3.TkgServiceConfigurationSpec{Proxy: &runv1alpha3.ProxyConfiguration{NoProxy: []string{"127.0.0.0/8"}}}}
	if err := c.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), cfg) })
	v1 := &runv1alpha1.TkgServiceConfiguration{}
	v2 := &runv1alpha2.TkgServiceConfiguration{}
	v3 := &runv1alpha3.TkgServiceConfiguration{}
	for _, obj := range []client.Object{v1, v2, v3} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(cfg), obj); err != nil {
			t.Fatalf("reading as %T: %v", obj, err)
		}
	}
	if v3.Spec.DefaultCNI != "antrea" || v2.Spec.DefaultCNI != "antrea" || v1.Spec.DefaultCNI != "antrea" ||
		v1.Spec.Proxy == nil || len(v1.Spec.Proxy.NoProxy) != 1 || v2.Spec.Proxy == nil || len(v2.Spec.Proxy.NoProxy) != 1 {
		t.Errorf("defaultCNI %q/%q/%q, proxy %+v/%+v", v1.Spec.DefaultCNI, v2.Spec.DefaultCNI, v3.Spec.DefaultCNI, v1.Spec.Proxy, v2.Spec.Proxy)
	}
}

// releaseTableRow reads one release as `kubectl get tkr` does (the
// server-side table of the preferred version).
func releaseTableRow(t *testing.T, name string) ([]string, []string) {
	t.Helper()
	cfg := restclient.CopyConfig(harness.Config().Config)
	cfg.GroupVersion = &schema.GroupVersion{Group: "run.tanzu.vmware.com", Version: "v1alpha3"}
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(runtime.NewScheme()).WithoutConversion()
	rc, err := restclient.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rc.Get().Resource("tanzukubernetesreleases").Name(name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		ColumnDefinitions []struct{ Name string } `json:"columnDefinitions"`
		Rows              []struct{ Cells []any } `json:"rows"`
	}
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("table: %v (%s)", err, raw)
	}
	var cols, row []string
	for i, c := range table.ColumnDefinitions {
		cols = append(cols, c.Name)
		row = append(row, fmt.Sprint(table.Rows[0].Cells[i]))
	}
	return cols, row
}

// deleteLibraryItem removes an item from the simulator's content library,
// as an administrator removes an OVA from a local library.
func deleteLibraryItem(t *testing.T, sim *vcsim.Simulator, name string) {
	t.Helper()
	ctx := context.Background()
	rc := rest.NewClient(sim.Client.Client)
	if err := rc.Login(ctx, url.UserPassword(sim.Username, sim.Password)); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Logout(ctx) }()
	m := library.NewManager(rc)
	lib, err := m.GetLibraryByName(ctx, vcsim.ContentLibrary)
	if err != nil {
		t.Fatal(err)
	}
	items, err := m.FindLibraryItems(ctx, library.FindItem{LibraryID: lib.ID, Name: name})
	if err != nil || len(items) != 1 {
		t.Fatalf("finding library item %s: %v, %v", name, items, err)
	}
	item, err := m.GetLibraryItem(ctx, items[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteLibraryItem(ctx, item); err != nil {
		t.Fatal(err)
	}
}
