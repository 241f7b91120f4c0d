package tanzukubernetescluster

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/open-supervisor/supervisor/api"
	"github.com/open-supervisor/supervisor/api/run/rules"
	runv1alpha1 "github.com/open-supervisor/supervisor/api/run/v1alpha1"
	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
)

func TestWebhookOverClientLookups(t *testing.T) {
	ctx := context.Background()
	reader := fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(
		&vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Name: "guaranteed-small", Namespace: "ns1"}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "unassigned"}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "ns1-storagequota", Namespace: "ns1"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"k8s-storage" + storageQuotaSuffix: resource.MustParse("100Gi")}}},
		&runv1alpha3.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: "v1.18.20---vmware.1-tkg.1"},
			Spec: runv1alpha3.TanzuKubernetesReleaseSpec{Version: "v1.18.20+vmware.1-tkg.1"}},
		&runv1alpha3.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: "v1.18.21---vmware.1-tkg.1", Labels: map[string]string{"incompatible": ""}},
			Spec: runv1alpha3.TanzuKubernetesReleaseSpec{Version: "v1.18.21+vmware.1-tkg.1"}},
		&runv1alpha3.TkgServiceConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "tkg-service-configuration"},
			Spec: runv1alpha3.TkgServiceConfigurationSpec{DefaultCNI: "antrea",
				Proxy: &runv1alpha3.ProxyConfiguration{HttpsProxy: ptr.To("http://127.0.0.1:3128"), NoProxy: []string{"127.0.0.0/8"}},
				Trust: &runv1alpha3.TrustConfiguration{AdditionalTrustedCAs: []runv1alpha3.TLSCertificate{{Name: "harbor-ca", Data: testCA(t)}}}}},
		&vspherev1.WorkloadNetwork{ObjectMeta: metav1.ObjectMeta{Name: "workload"},
			Spec: vspherev1.WorkloadNetworkSpec{PortGroup: "workload", AddressRanges: []string{"127.20.0.10-127.20.15.250"}, PrefixLength: 16}},
	).Build()
	lookups := &ClientLookups{Reader: reader}
	f, err := rules.Gather(ctx, lookups, "ns1")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.VMClasses) != 1 || len(f.StorageClasses) != 1 || f.StorageClasses[0] != "k8s-storage" ||
		len(f.Releases) != 2 || !f.Releases[1].Incompatible || len(f.SupervisorNetworks) != 1 || f.DefaultCNI != "antrea" {
		t.Fatalf("facts = %+v", f)
	}

	w := newV1alpha1Webhook(lookups, nil)
	c := &runv1alpha1.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "tkc01", Namespace: "ns1"},
		Spec: runv1alpha1.TanzuKubernetesClusterSpec{
			Distribution: runv1alpha1.Distribution{VersionHint: "v1.18"},
			Topology: runv1alpha1.Topology{
				ControlPlane: runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: "k8s-storage"},
				Workers:      runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: "unassigned"},
			},
		},
	}
	if err := w.Default(ctx, c); err != nil {
		t.Fatal(err)
	}
	// The TkgServiceConfiguration's proxy and trust become the cluster's.
	if n := c.Spec.Settings.Network; n.Proxy == nil || ptr.Deref(n.Proxy.HttpsProxy, "") != "http://127.0.0.1:3128" ||
		n.Trust == nil || len(n.Trust.AdditionalTrustedCAs) != 1 || n.Trust.AdditionalTrustedCAs[0].Name != "harbor-ca" {
		t.Errorf("defaults not applied: proxy %+v trust %+v", n.Proxy, n.Trust)
	}
	if c.Spec.Distribution.Version != "v1.18.20+vmware.1-tkg.1" {
		t.Errorf("resolved %q; the incompatible v1.18.21 must not be picked", c.Spec.Distribution.Version)
	}
	_, err = w.ValidateCreate(ctx, c)
	status, ok := err.(apierrors.APIStatus)
	if !ok || !apierrors.IsInvalid(err) || len(status.Status().Details.Causes) != 1 ||
		status.Status().Details.Causes[0].Field != "spec.topology.workers.storageClass" {
		t.Fatalf("want Invalid at spec.topology.workers.storageClass, got %v", err)
	}
}

// countingLookups counts how often the facts were gathered through it.
type countingLookups struct {
	rules.Lookups
	gathered int
}

func (c *countingLookups) VMClasses(ctx context.Context, namespace string) ([]string, error) {
	c.gathered++
	return c.Lookups.VMClasses(ctx, namespace)
}

// The webhooks answer from the manager's cache, and ask the API server
// only when the cached facts would refuse the object: a VM class created a
// moment ago and not in the cache yet does not refuse a cluster naming it.
func TestWebhookRefusesOnlyOnFreshFacts(t *testing.T) {
	ctx := context.Background()
	objects := func(classes ...string) *ClientLookups {
		objs := []client.Object{
			&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "k8s-storage"}},
			&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "ns1-storagequota", Namespace: "ns1"},
				Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"k8s-storage" + storageQuotaSuffix: resource.MustParse("100Gi")}}},
			&runv1alpha3.TanzuKubernetesRelease{ObjectMeta: metav1.ObjectMeta{Name: "v1.18.20---vmware.1-tkg.1"},
				Spec: runv1alpha3.TanzuKubernetesReleaseSpec{Version: "v1.18.20+vmware.1-tkg.1"}},
		}
		for _, c := range classes {
			objs = append(objs, &vmopv1.VirtualMachineClass{ObjectMeta: metav1.ObjectMeta{Name: c, Namespace: "ns1"}})
		}
		return &ClientLookups{Reader: fake.NewClientBuilder().WithScheme(api.NewScheme()).WithObjects(objs...).Build()}
	}
	cached := &countingLookups{Lookups: objects("guaranteed-small")} // best-effort-large not seen yet
	fresh := &countingLookups{Lookups: objects("guaranteed-small", "best-effort-large")}
	w := newV1alpha1Webhook(cached, fresh)
	cluster := func(workers string) *runv1alpha1.TanzuKubernetesCluster {
		c := &runv1alpha1.TanzuKubernetesCluster{
			ObjectMeta: metav1.ObjectMeta{Name: "tkc01", Namespace: "ns1"},
			Spec: runv1alpha1.TanzuKubernetesClusterSpec{
				Distribution: runv1alpha1.Distribution{VersionHint: "v1.18"},
				Topology: runv1alpha1.Topology{
					ControlPlane: runv1alpha1.TopologySettings{Count: 1, Class: "guaranteed-small", StorageClass: "k8s-storage"},
					Workers:      runv1alpha1.TopologySettings{Count: 1, Class: workers, StorageClass: "k8s-storage"},
				},
			},
		}
		if err := w.Default(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	if _, err := w.ValidateCreate(ctx, cluster("guaranteed-small")); err != nil || fresh.gathered != 0 {
		t.Fatalf("a cluster the cached facts admit: err %v, API server asked %d times (want 0)", err, fresh.gathered)
	}
	if _, err := w.ValidateCreate(ctx, cluster("best-effort-large")); err != nil || fresh.gathered == 0 {
		t.Fatalf("a class only the API server has yet must be admitted after asking it: err %v, asked %d times", err, fresh.gathered)
	}
	_, err := w.ValidateCreate(ctx, cluster("no-such-class"))
	if status, ok := err.(apierrors.APIStatus); !ok || !apierrors.IsInvalid(err) || status.Status().Details.Causes[0].Field != "spec.topology.workers.class" {
		t.Fatalf("a class neither has: want Invalid at spec.topology.workers.class, got %v", err)
	}
}
