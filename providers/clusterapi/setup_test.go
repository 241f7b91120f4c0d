package clusterapi

import (
	"context"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/open-supervisor/supervisor/test/envtest"
	"github.com/open-supervisor/supervisor/test/wait"
	bootstrapv1 "sigs.k8s.io/cluster-api/api/bootstrap/kubeadm/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/feature"
)

const kubernetesVersion = "v1.35.0"

func TestKubeadmControlPlaneWebhooks(t *testing.T) {
	ctx := context.Background()
	ns := envtest.NewNamespace(t, testClient, "capi-", nil)

	bad := newKCP(ns, "bad", "1.35")
	err := testClient.Create(ctx, bad)
	if !apierrors.IsInvalid(err) || !hasCause(err, "spec.version") {
		t.Fatalf("a KubeadmControlPlane with version 1.35 must be refused as Invalid at spec.version, got %v", err)
	}

	// The defaulting webhook adds the "v".
	good := newKCP(ns, "good", "1.35.0")
	if err := testClient.Create(ctx, good); err != nil {
		t.Fatal(err)
	}
	if good.Spec.Version != kubernetesVersion {
		t.Errorf("spec.version = %q after defaulting, want %q", good.Spec.Version, kubernetesVersion)
	}
}

// TestClusterProvisioning drives a Cluster with a KubeadmControlPlane and a
// MachineDeployment as far as it goes without a workload API server: the
// test plays the infrastructure provider.
func TestClusterProvisioning(t *testing.T) {
	ctx := context.Background()
	ns := envtest.NewNamespace(t, testClient, "capi-", nil)
	const name = "tkc"

	for _, o := range []client.Object{
		newInfra("FakeCluster", ns, name, map[string]any{}),
		newInfra("FakeMachineTemplate", ns, name, map[string]any{"template": map[string]any{"spec": map[string]any{}}}),
		&bootstrapv1.KubeadmConfigTemplate{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
		newKCP(ns, name, kubernetesVersion),
		&clusterv1.Cluster{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: clusterv1.ClusterSpec{
				InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infraGroup, Kind: "FakeCluster", Name: name},
				ControlPlaneRef: clusterv1.ContractVersionedObjectReference{
					APIGroup: controlplanev1.GroupVersion.Group, Kind: "KubeadmControlPlane", Name: name},
			},
		},
		newMachineDeployment(ns, name, 2),
	} {
		if err := testClient.Create(ctx, o); err != nil {
			t.Fatalf("failed to create %T %s: %v", o, name, err)
		}
	}

	// The infrastructure is ready and has an endpoint.
	infra := newInfra("FakeCluster", ns, name, nil)
	if err := testClient.Get(ctx, client.ObjectKeyFromObject(infra), infra); err != nil {
		t.Fatal(err)
	}
	base := infra.DeepCopy()
	_ = unstructured.SetNestedMap(infra.Object, map[string]any{"host": "127.0.0.1", "port": int64(6443)}, "spec", "controlPlaneEndpoint")
	if err := testClient.Patch(ctx, infra, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	base = infra.DeepCopy()
	_ = unstructured.SetNestedField(infra.Object, true, "status", "initialization", "provisioned")
	if err := testClient.Status().Patch(ctx, infra, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}

	cluster := &clusterv1.Cluster{}
	wait.For(t, time.Minute, "the Cluster controller to see the infrastructure and copy its endpoint", func() (bool, error) {
		err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cluster)
		return err == nil && ptr.Deref(cluster.Status.Initialization.InfrastructureProvisioned, false) &&
			cluster.Spec.ControlPlaneEndpoint.Host == "127.0.0.1", err
	})

	for _, purpose := range []string{"ca", "etcd", "sa", "proxy", "kubeconfig"} {
		wait.For(t, time.Minute, "KubeadmControlPlane to create Secret "+name+"-"+purpose, func() (bool, error) {
			err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-" + purpose}, &corev1.Secret{})
			return err == nil, err
		})
	}

	cp := &clusterv1.Machine{}
	wait.For(t, time.Minute, "KubeadmControlPlane to create its first Machine", func() (bool, error) {
		machines := &clusterv1.MachineList{}
		err := testClient.List(ctx, machines, client.InNamespace(ns), client.HasLabels{clusterv1.MachineControlPlaneLabel})
		if err != nil || len(machines.Items) != 1 {
			return false, err
		}
		*cp = machines.Items[0]
		return true, nil
	})
	wait.For(t, time.Minute, "the kubeadm bootstrap provider to write the init data of the control-plane Machine", func() (bool, error) {
		config := &bootstrapv1.KubeadmConfig{}
		err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: cp.Spec.Bootstrap.ConfigRef.Name}, config)
		return err == nil && config.Status.DataSecretName != "", err
	})

	wait.For(t, time.Minute, "the MachineDeployment's MachineSet to create 2 Machines", func() (bool, error) {
		machines := &clusterv1.MachineList{}
		err := testClient.List(ctx, machines, client.InNamespace(ns), client.MatchingLabels{clusterv1.MachineDeploymentNameLabel: name})
		return err == nil && len(machines.Items) == 2, err
	})

	// v1beta1 has an apiVersion in references where v1beta2 has a group: the
	// conversion webhook reads it from the FakeCluster CRD's contract label.
	old := &clusterv1beta1.Cluster{}
	if err := testClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, old); err != nil {
		t.Fatalf("failed to read the Cluster as v1beta1: %v", err)
	}
	if got, want := old.Spec.InfrastructureRef.APIVersion, infraGroup+"/"+infraVersion; got != want {
		t.Errorf("v1beta1 spec.infrastructureRef.apiVersion = %q, want %q", got, want)
	}
	if got, want := old.Spec.ControlPlaneRef.APIVersion, controlplanev1.GroupVersion.String(); got != want {
		t.Errorf("v1beta1 spec.controlPlaneRef.apiVersion = %q, want %q", got, want)
	}
	if old.Spec.ControlPlaneEndpoint.Port != 6443 {
		t.Errorf("v1beta1 spec.controlPlaneEndpoint = %+v", old.Spec.ControlPlaneEndpoint)
	}
}

func newKCP(namespace, name, version string) *controlplanev1.KubeadmControlPlane {
	return &controlplanev1.KubeadmControlPlane{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: controlplanev1.KubeadmControlPlaneSpec{
			Replicas: ptr.To[int32](1),
			Version:  version,
			MachineTemplate: controlplanev1.KubeadmControlPlaneMachineTemplate{
				Spec: controlplanev1.KubeadmControlPlaneMachineTemplateSpec{
					InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infraGroup, Kind: "FakeMachineTemplate", Name: name},
				},
			},
		},
	}
}

// newMachineDeployment returns workers that skip the MachineSet preflight
// checks: they would wait for a control plane that can never come up here.
func newMachineDeployment(namespace, name string, replicas int32) *clusterv1.MachineDeployment {
	return &clusterv1.MachineDeployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name,
			Annotations: map[string]string{clusterv1.MachineSetSkipPreflightChecksAnnotation: string(clusterv1.MachineSetPreflightCheckAll)}},
		Spec: clusterv1.MachineDeploymentSpec{
			ClusterName: name,
			Replicas:    ptr.To(replicas),
			Template: clusterv1.MachineTemplateSpec{
				Spec: clusterv1.MachineSpec{
					ClusterName: name,
					Version:     kubernetesVersion,
					Bootstrap: clusterv1.Bootstrap{ConfigRef: clusterv1.ContractVersionedObjectReference{
						APIGroup: bootstrapv1.GroupVersion.Group, Kind: "KubeadmConfigTemplate", Name: name}},
					InfrastructureRef: clusterv1.ContractVersionedObjectReference{APIGroup: infraGroup, Kind: "FakeMachineTemplate", Name: name},
				},
			},
		},
	}
}

// hasCause reports whether an API error names field among its causes.
func hasCause(err error, field string) bool {
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		if c.Field == field {
			return true
		}
	}
	return false
}

// The supervisor runs Cluster API without its per-object rate limiting
// (KubeadmControlPlane's 5 s hold after a failed preflight check stood
// twice on the seed cluster's path); an operator may turn it back on.
func TestFeatureGates(t *testing.T) {
	if feature.Gates.Enabled(feature.ReconcilerRateLimiting) {
		t.Error("after Setup with the default options, ReconcilerRateLimiting is on; want off")
	}
	if !feature.Gates.Enabled(feature.ClusterTopology) {
		t.Error("after Setup with the default options, ClusterTopology is off; want on")
	}
	gates := featureGates(map[string]bool{string(feature.ReconcilerRateLimiting): true, string(feature.MachinePool): false})
	want := map[string]bool{string(feature.ClusterTopology): true, string(feature.ReconcilerRateLimiting): true, string(feature.MachinePool): false}
	if !maps.Equal(gates, want) {
		t.Errorf("featureGates with overrides = %v, want %v", gates, want)
	}
}
