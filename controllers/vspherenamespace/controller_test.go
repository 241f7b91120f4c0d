package vspherenamespace

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/open-supervisor/supervisor/api/vmoperator/v1alpha2"
	vspherev1 "github.com/open-supervisor/supervisor/api/vsphere/v1alpha1"
	"github.com/open-supervisor/supervisor/test/wait"
)

func createVSphereNamespace(t *testing.T, name string, spec vspherev1.VSphereNamespaceSpec) *vspherev1.VSphereNamespace {
	t.Helper()
	vns := &vspherev1.VSphereNamespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	if err := testClient.Create(context.Background(), vns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), vns) })
	return vns
}

// waitConfigured waits until the namespace's current generation reached
// configStatus want, and returns it.
func waitConfigured(t *testing.T, name, want string) *vspherev1.VSphereNamespace {
	t.Helper()
	vns := &vspherev1.VSphereNamespace{}
	wait.For(t, timeout, fmt.Sprintf("VSphereNamespace %s to be %s", name, want), func() (bool, error) {
		if err := testClient.Get(context.Background(), client.ObjectKey{Name: name}, vns); err != nil {
			return false, err
		}
		if vns.Status.ObservedGeneration != vns.Generation || vns.Status.ConfigStatus != want {
			return false, fmt.Errorf("generation %d, observed %d, configStatus %q, messages %+v",
				vns.Generation, vns.Status.ObservedGeneration, vns.Status.ConfigStatus, vns.Status.Messages)
		}
		return true, nil
	})
	return vns
}

func update(t *testing.T, name string, change func(*vspherev1.VSphereNamespace)) {
	t.Helper()
	// The controller writes the status meanwhile: retry on conflicts, as
	// the REST API does.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vns := &vspherev1.VSphereNamespace{}
		if err := testClient.Get(context.Background(), client.ObjectKey{Name: name}, vns); err != nil {
			return err
		}
		change(vns)
		return testClient.Update(context.Background(), vns)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func classNames(t *testing.T, ns string) []string {
	t.Helper()
	var list vmopv1.VirtualMachineClassList
	if err := testClient.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range list.Items {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

// waitClasses waits until the namespace holds exactly want.
func waitClasses(t *testing.T, ns string, want ...string) {
	t.Helper()
	sort.Strings(want)
	wait.For(t, timeout, fmt.Sprintf("namespace %s to hold the classes %v", ns, want), func() (bool, error) {
		got := classNames(t, ns)
		if !slices.Equal(got, want) {
			return false, fmt.Errorf("it holds %v", got)
		}
		return true, nil
	})
}

// bindings are the namespace's RoleBindings as "name role kind/subject".
func bindings(t *testing.T, ns string) []string {
	t.Helper()
	var list rbacv1.RoleBindingList
	if err := testClient.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rb := range list.Items {
		for _, s := range rb.Subjects {
			if s.APIGroup != rbacv1.GroupName || rb.RoleRef.Kind != "ClusterRole" {
				t.Errorf("RoleBinding %s: roleRef %+v, subject %+v", rb.Name, rb.RoleRef, s)
			}
			out = append(out, fmt.Sprintf("%s %s %s/%s", rb.Name, rb.RoleRef.Name, s.Kind, s.Name))
		}
	}
	sort.Strings(out)
	return out
}

func waitBindings(t *testing.T, ns string, want ...string) {
	t.Helper()
	sort.Strings(want)
	wait.For(t, timeout, "the role bindings "+strings.Join(want, ", "), func() (bool, error) {
		got := bindings(t, ns)
		if !slices.Equal(got, want) {
			return false, fmt.Errorf("bindings are %v", got)
		}
		return true, nil
	})
}

func quota(t *testing.T, ns, name string) (corev1.ResourceList, bool) {
	t.Helper()
	q := &corev1.ResourceQuota{}
	err := testClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, q)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return q.Spec.Hard, true
}

func equalQuantity(l corev1.ResourceList, name corev1.ResourceName, want string) bool {
	q, ok := l[name]
	return ok && q.Cmp(resource.MustParse(want)) == 0
}

// TestNamespaceIsConfiguredFromItsSpec creates a vSphere Namespace with
// classes, storage, limits and an access list, checks every Kubernetes
// object a user relies on, then changes each part of the spec and checks
// that what left the spec is gone.
func TestNamespaceIsConfiguredFromItsSpec(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("dev")
	createVSphereNamespace(t, name, vspherev1.VSphereNamespaceSpec{
		Cluster:       "domain-c8",
		VMServiceSpec: vspherev1.VMServiceSpec{VMClasses: []string{"best-effort-small", "guaranteed-large"}},
		StorageSpecs: []vspherev1.StorageSpec{
			{Policy: "policy-gold", LimitMiB: ptr.To[int64](10240)},
			{Policy: "policy-silver"},
		},
		ResourceSpec: vspherev1.ResourceSpec{CPULimitMHz: ptr.To[int64](5000), MemoryLimitMiB: ptr.To[int64](8192)},
		AccessList: []vspherev1.Access{
			{SubjectType: "USER", Subject: "Administrator", Domain: "vsphere.local", Role: "OWNER"},
			{SubjectType: "GROUP", Subject: "Viewers", Domain: "vsphere.local", Role: "VIEW"},
		},
	})
	vns := waitConfigured(t, name, vspherev1.ConfigStatusRunning)
	if c := meta.FindStatusCondition(vns.Status.Conditions, vspherev1.NamespaceConfiguredCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Configured condition = %+v", c)
	}

	ns := &corev1.Namespace{}
	if err := testClient.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels[vspherev1.VSphereNamespaceLabel] != "true" || !controlledBy(ns, vns) {
		t.Errorf("namespace labels %v, owners %+v: want the vSphere Namespace label and the VSphereNamespace as controller", ns.Labels, ns.OwnerReferences)
	}
	// Only the named classes: not the 16 defaults of hand-labelled namespaces.
	waitClasses(t, name, "best-effort-small", "guaranteed-large")
	large := &vmopv1.VirtualMachineClass{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: name, Name: "guaranteed-large"}, large); err != nil {
		t.Fatal(err)
	}
	if large.Spec.Hardware.Cpus != 4 || large.Spec.Hardware.Memory.String() != "16Gi" {
		t.Errorf("guaranteed-large copied as %+v", large.Spec.Hardware)
	}

	for id, class := range map[string]string{"policy-gold": "gold-tier", "policy-silver": "silver"} {
		sc := &storagev1.StorageClass{}
		if err := testClient.Get(ctx, client.ObjectKey{Name: class}, sc); err != nil {
			t.Fatalf("StorageClass of %s: %v", id, err)
		}
		if sc.Provisioner != CSIProvisioner || sc.Parameters[StoragePolicyIDParameter] != id || sc.Parameters[DatastoreURLParameter] != testDatastoreURL {
			t.Errorf("StorageClass %s: provisioner %s, parameters %v", class, sc.Provisioner, sc.Parameters)
		}
	}
	storage, ok := quota(t, name, StorageQuotaName)
	if !ok || len(storage) != 2 || !equalQuantity(storage, StorageQuotaResource("gold-tier"), "10Gi") ||
		!equalQuantity(storage, StorageQuotaResource("silver"), "9223372036854775807") {
		t.Errorf("storage quota = %v; want gold-tier 10Gi and silver unlimited", storage)
	}
	limits, ok := quota(t, name, ResourceQuotaName)
	if !ok || len(limits) != 2 || !equalQuantity(limits, corev1.ResourceLimitsCPU, "5") || !equalQuantity(limits, corev1.ResourceLimitsMemory, "8Gi") {
		t.Errorf("resource quota = %v; want limits.cpu 5 (5000 MHz) and limits.memory 8Gi", limits)
	}
	waitBindings(t, name,
		"wcp:"+name+":group:vsphere.local:administrators edit Group/sso:Administrators@vsphere.local",
		"wcp:"+name+":user:vsphere.local:administrator edit User/sso:Administrator@vsphere.local",
		"wcp:"+name+":group:vsphere.local:viewers view Group/sso:Viewers@vsphere.local",
	)

	// Change every part: a class swapped, the group removed, the owner
	// demoted to viewer, a user added, a policy and the limits dropped.
	update(t, name, func(v *vspherev1.VSphereNamespace) {
		v.Spec.VMServiceSpec.VMClasses = []string{"best-effort-small", "best-effort-xsmall"}
		v.Spec.AccessList = []vspherev1.Access{
			{SubjectType: "USER", Subject: "Administrator", Domain: "vsphere.local", Role: "VIEW"},
			{SubjectType: "USER", Subject: "dev", Domain: "corp.example.com", Role: "EDIT"},
		}
		v.Spec.StorageSpecs = v.Spec.StorageSpecs[:1]
		v.Spec.ResourceSpec = vspherev1.ResourceSpec{}
	})
	waitConfigured(t, name, vspherev1.ConfigStatusRunning)
	waitClasses(t, name, "best-effort-small", "best-effort-xsmall")
	waitBindings(t, name,
		"wcp:"+name+":group:vsphere.local:administrators edit Group/sso:Administrators@vsphere.local",
		"wcp:"+name+":user:vsphere.local:administrator view User/sso:Administrator@vsphere.local",
		"wcp:"+name+":user:corp.example.com:dev edit User/sso:dev@corp.example.com",
	)
	wait.For(t, timeout, "the quotas to follow the spec", func() (bool, error) {
		storage, _ := quota(t, name, StorageQuotaName)
		if len(storage) != 1 || !equalQuantity(storage, StorageQuotaResource("gold-tier"), "10Gi") {
			return false, fmt.Errorf("storage quota %v", storage)
		}
		if limits, ok := quota(t, name, ResourceQuotaName); ok {
			return false, fmt.Errorf("resource quota still there: %v", limits)
		}
		return true, nil
	})
}

// TestUnknownClassOrPolicyIsAnError names an unknown class and an unknown
// policy: the namespace is ERROR with a message naming each; once the class
// is added to the catalog it is bound, and a catalog edit reaches the copy.
func TestUnknownClassOrPolicyIsAnError(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("bad")
	class := uniqueName("custom-class")
	createVSphereNamespace(t, name, vspherev1.VSphereNamespaceSpec{
		Cluster:       "domain-c8",
		VMServiceSpec: vspherev1.VMServiceSpec{VMClasses: []string{"best-effort-small", class}},
		StorageSpecs:  []vspherev1.StorageSpec{{Policy: "policy-gold"}, {Policy: "no-such-policy"}},
	})
	vns := waitConfigured(t, name, vspherev1.ConfigStatusError)
	c := meta.FindStatusCondition(vns.Status.Conditions, vspherev1.NamespaceConfiguredCondition)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != ReasonVMClassNotFound ||
		!strings.Contains(c.Message, "spec.vmServiceSpec.vmClasses[1]") || !strings.Contains(c.Message, class) ||
		!strings.Contains(c.Message, "spec.storageSpecs[1].policy") || !strings.Contains(c.Message, "no-such-policy") {
		t.Errorf("Configured condition = %+v; want False naming the class and the policy", c)
	}
	var ids, texts []string
	for _, m := range vns.Status.Messages {
		ids = append(ids, m.ID)
		texts = append(texts, m.DefaultMessage)
		if m.Severity != "ERROR" {
			t.Errorf("message %+v is not an ERROR", m)
		}
	}
	if !slices.Contains(ids, "vcenter.wcp.namespace.vmclass.notfound") || !slices.Contains(ids, "vcenter.wcp.namespace.storagepolicy.notfound") ||
		!strings.Contains(strings.Join(texts, "\n"), "vm_service_spec.vm_classes[1]") {
		t.Errorf("messages = %+v", vns.Status.Messages)
	}
	// What can be configured is.
	waitClasses(t, name, "best-effort-small")

	// The class appears in the catalog: the catalog's watch binds it with
	// the spec untouched. Then the policy is dropped from the spec.
	catalogClass := &vmopv1.VirtualMachineClass{
		ObjectMeta: metav1.ObjectMeta{Namespace: vspherev1.VMClassCatalogNamespace, Name: class},
		Spec:       vmopv1.VirtualMachineClassSpec{Hardware: vmopv1.VirtualMachineClassHardware{Cpus: 3, Memory: resource.MustParse("3Gi")}},
	}
	if err := testClient.Create(ctx, catalogClass); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), catalogClass) })
	waitClasses(t, name, "best-effort-small", class)
	update(t, name, func(v *vspherev1.VSphereNamespace) { v.Spec.StorageSpecs = v.Spec.StorageSpecs[:1] })
	waitConfigured(t, name, vspherev1.ConfigStatusRunning)

	// An admin edits the class in the catalog: the namespace's copy follows.
	catalogClass.Spec.Hardware.Cpus = 6
	if err := testClient.Update(ctx, catalogClass); err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "the copy to follow the catalog", func() (bool, error) {
		c := &vmopv1.VirtualMachineClass{}
		if err := testClient.Get(ctx, client.ObjectKey{Namespace: name, Name: class}, c); err != nil {
			return false, err
		}
		return c.Spec.Hardware.Cpus == 6, fmt.Errorf("copy has %d CPUs", c.Spec.Hardware.Cpus)
	})
}

// TestDeleteWaitsForTheNamespaceToEmpty deletes a vSphere Namespace whose
// namespace holds an object with a finalizer: the VSphereNamespace stays,
// REMOVING, until the namespace controller could empty it.
func TestDeleteWaitsForTheNamespaceToEmpty(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("doomed")
	vns := createVSphereNamespace(t, name, vspherev1.VSphereNamespaceSpec{
		Cluster:       "domain-c8",
		VMServiceSpec: vspherev1.VMServiceSpec{VMClasses: []string{"best-effort-small"}},
	})
	waitConfigured(t, name, vspherev1.ConfigStatusRunning)
	held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "held", Finalizers: []string{"test.opensupervisor.io/hold"}}}
	if err := testClient.Create(ctx, held); err != nil {
		t.Fatal(err)
	}
	if err := testClient.Delete(ctx, vns); err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "the VSphereNamespace to wait for its namespace's content", func() (bool, error) {
		got := &vspherev1.VSphereNamespace{}
		if err := testClient.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(got.Status.Conditions, vspherev1.NamespaceConfiguredCondition)
		if got.Status.ConfigStatus != vspherev1.ConfigStatusRemoving || c == nil || !strings.Contains(c.Message, "configmaps") {
			return false, fmt.Errorf("configStatus %q, condition %+v", got.Status.ConfigStatus, c)
		}
		return true, nil
	})
	if err := testClient.Patch(ctx, held, client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`))); err != nil {
		t.Fatal(err)
	}
	wait.For(t, timeout, "the namespace and the VSphereNamespace to be gone", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
		if !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("namespace: %v", err)
		}
		err = testClient.Get(ctx, client.ObjectKey{Name: name}, &vspherev1.VSphereNamespace{})
		return apierrors.IsNotFound(err), fmt.Errorf("VSphereNamespace: %v", err)
	})
}

// TestHandLabelledNamespaces: a namespace labelled by hand still gets the
// 16 default classes; a VSphereNamespace of its name adopts it and keeps
// only the classes it names. A namespace that is not a vSphere Namespace
// is never taken.
func TestHandLabelledNamespaces(t *testing.T) {
	ctx := context.Background()
	name := uniqueName("handmade")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{vspherev1.VSphereNamespaceLabel: "true"}}}
	if err := testClient.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), ns) })
	wait.For(t, timeout, "the 16 default classes", func() (bool, error) {
		n := len(classNames(t, name))
		return n == 16, fmt.Errorf("%d classes", n)
	})

	createVSphereNamespace(t, name, vspherev1.VSphereNamespaceSpec{
		Cluster: "domain-c8", VMServiceSpec: vspherev1.VMServiceSpec{VMClasses: []string{"guaranteed-small"}},
	})
	waitConfigured(t, name, vspherev1.ConfigStatusRunning)
	waitClasses(t, name, "guaranteed-small")

	other := uniqueName("plain")
	plain := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}
	if err := testClient.Create(ctx, plain); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), plain) })
	createVSphereNamespace(t, other, vspherev1.VSphereNamespaceSpec{Cluster: "domain-c8"})
	vns := waitConfigured(t, other, vspherev1.ConfigStatusError)
	if len(vns.Status.Messages) != 1 || vns.Status.Messages[0].ID != "vcenter.wcp.namespace.exists" {
		t.Errorf("messages = %+v", vns.Status.Messages)
	}
	if err := testClient.Get(ctx, client.ObjectKey{Name: other}, plain); err != nil || metav1.GetControllerOf(plain) != nil {
		t.Errorf("the plain namespace was taken: %+v, %v", plain.OwnerReferences, err)
	}
	// Once the other namespace is gone the name is free: the vSphere
	// Namespace makes its own.
	if err := testClient.Delete(ctx, plain); err != nil {
		t.Fatal(err)
	}
	waitConfigured(t, other, vspherev1.ConfigStatusRunning)
	mine := &corev1.Namespace{}
	if err := testClient.Get(ctx, client.ObjectKey{Name: other}, mine); err != nil || mine.Labels[vspherev1.VSphereNamespaceLabel] != "true" || metav1.GetControllerOf(mine) == nil {
		t.Errorf("namespace %s after the other one went: %+v, %v", other, mine.ObjectMeta, err)
	}
}

// The namespace's networks are recorded on its Namespace for the VM
// service: the cluster's primary network when the spec names none, the
// spec's otherwise; a network the cluster does not have is an error.
func TestNamespaceNetworks(t *testing.T) {
	ctx := context.Background()
	cluster := uniqueName("domain-c")
	sup := &vspherev1.Supervisor{ObjectMeta: metav1.ObjectMeta{Name: cluster}, Spec: vspherev1.SupervisorSpec{
		WorkloadNetwork:            vspherev1.SupervisorWorkloadNetwork{Name: "primary", AddressRanges: []vspherev1.AddressRange{{Address: "10.0.0.10", Count: 10}}},
		AdditionalWorkloadNetworks: []vspherev1.SupervisorWorkloadNetwork{{Name: "extra", AddressRanges: []vspherev1.AddressRange{{Address: "10.0.1.10", Count: 10}}}},
		LoadBalancer: vspherev1.SupervisorLoadBalancer{AddressRanges: []vspherev1.AddressRange{{Address: "10.0.2.10", Count: 10}},
			Servers: []vspherev1.DataPlaneAPIServer{{Host: "127.0.0.1", Port: 5556}}},
	}}
	if err := testClient.Create(ctx, sup); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testClient.Delete(context.Background(), sup) })
	networksOf := func(name, want string) {
		t.Helper()
		wait.For(t, timeout, "namespace "+name+" on networks "+want, func() (bool, error) {
			ns := &corev1.Namespace{}
			if err := testClient.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
				return false, err
			}
			got := ns.Annotations[vspherev1.NamespaceNetworksAnnotation]
			return got == want, fmt.Errorf("annotation %q", got)
		})
	}

	plain := uniqueName("plain")
	createVSphereNamespace(t, plain, vspherev1.VSphereNamespaceSpec{Cluster: cluster})
	waitConfigured(t, plain, vspherev1.ConfigStatusRunning)
	networksOf(plain, "primary")

	chosen := uniqueName("chosen")
	createVSphereNamespace(t, chosen, vspherev1.VSphereNamespaceSpec{Cluster: cluster, Networks: []string{"extra", "gone"}})
	vns := waitConfigured(t, chosen, vspherev1.ConfigStatusError)
	if len(vns.Status.Messages) != 1 || vns.Status.Messages[0].ID != "vcenter.wcp.namespace.network.notfound" ||
		!strings.HasPrefix(vns.Status.Messages[0].DefaultMessage, "networks[1]: ") {
		t.Errorf("messages = %+v; want networks[1] named", vns.Status.Messages)
	}
	networksOf(chosen, "extra")
	update(t, chosen, func(v *vspherev1.VSphereNamespace) { v.Spec.Networks = []string{"extra", "primary"} })
	waitConfigured(t, chosen, vspherev1.ConfigStatusRunning)
	networksOf(chosen, "extra,primary")
}
