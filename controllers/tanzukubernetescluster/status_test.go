package tanzukubernetescluster

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	addonsv1 "sigs.k8s.io/cluster-api/api/addons/v1beta2"
	controlplanev1 "sigs.k8s.io/cluster-api/api/controlplane/kubeadm/v1beta2"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	runv1alpha3 "github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

func statusFixture(t *testing.T) (*runv1alpha3.TanzuKubernetesCluster, *clusterObjects) {
	t.Helper()
	tkc := &runv1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns1", Name: "tkc01"},
		Spec: runv1alpha3.TanzuKubernetesClusterSpec{Topology: runv1alpha3.Topology{
			ControlPlane: runv1alpha3.TopologySettings{Replicas: ptr.To[int32](3), VMClass: "guaranteed-small", StorageClass: "k8s-storage",
				TKR: runv1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: release118}}},
			NodePools: []runv1alpha3.NodePool{{Name: "workers", TopologySettings: runv1alpha3.TopologySettings{
				Replicas: ptr.To[int32](3), VMClass: "guaranteed-small", StorageClass: "k8s-storage"}}},
		}},
	}
	o, err := desiredObjects(tkc, map[string]release{release118: {Name: release118, Version: "v1.18.20+vmware.1-tkg.1",
		KubernetesVersion: "v1.18.20", Image: "photon-3-k8s-" + release118}})
	if err != nil {
		t.Fatal(err)
	}
	return tkc, o
}

// running is what Cluster API reports for a healthy 3+3 cluster.
func running(o *clusterObjects) observed {
	kcp := o.ControlPlane.DeepCopy()
	kcp.Status = controlplanev1.KubeadmControlPlaneStatus{Replicas: ptr.To[int32](3), ReadyReplicas: ptr.To[int32](3), UpToDateReplicas: ptr.To[int32](3),
		Initialization: controlplanev1.KubeadmControlPlaneInitializationStatus{ControlPlaneInitialized: ptr.To(true)}}
	md := o.MachineDeployments[0].DeepCopy()
	md.Status = clusterv1.MachineDeploymentStatus{Replicas: ptr.To[int32](3), ReadyReplicas: ptr.To[int32](3), UpToDateReplicas: ptr.To[int32](3)}
	cluster := o.Cluster.DeepCopy()
	cluster.Spec.ControlPlaneEndpoint = clusterv1.APIEndpoint{Host: "127.30.0.5", Port: 6443}
	cluster.Status.Initialization.InfrastructureProvisioned = ptr.To(true)
	return observed{
		Cluster: cluster, ControlPlane: kcp, MachineDeployments: map[string]*clusterv1.MachineDeployment{md.Name: md},
		Binding: &addonsv1.ClusterResourceSetBinding{Spec: addonsv1.ClusterResourceSetBindingSpec{Bindings: []addonsv1.ResourceSetBinding{{
			ClusterResourceSetName: o.CNI.Name,
			Resources:              []addonsv1.ResourceBinding{{ResourceRef: addonsv1.ResourceRef{Name: o.CNIConfigMap.Name, Kind: "ConfigMap"}, Applied: ptr.To(true)}},
		}}}},
	}
}

func TestSetStatus(t *testing.T) {
	now := metav1.NewTime(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	cases := []struct {
		name        string
		ranBefore   bool
		change      func(*observed)
		phase       runv1alpha3.TanzuKubernetesClusterPhase
		ready       corev1.ConditionStatus
		readyReason string
	}{
		{name: "running", phase: runv1alpha3.PhaseRunning, ready: corev1.ConditionTrue},
		{name: "no Cluster yet", change: func(o *observed) { o.Cluster, o.ControlPlane = nil, nil },
			phase: runv1alpha3.PhaseCreating, ready: corev1.ConditionFalse, readyReason: runv1alpha3.WaitingForClusterInfrastructureReason},
		{name: "no VIP yet", change: func(o *observed) { o.Cluster.Status.Initialization.InfrastructureProvisioned = nil },
			phase: runv1alpha3.PhaseCreating, ready: corev1.ConditionFalse, readyReason: runv1alpha3.WaitingForClusterInfrastructureReason},
		{name: "first node booting", change: func(o *observed) { o.ControlPlane.Status.Initialization.ControlPlaneInitialized = nil },
			phase: runv1alpha3.PhaseCreating, ready: corev1.ConditionFalse, readyReason: runv1alpha3.WaitingForControlPlaneInitializedReason},
		{name: "workers upgrading", ranBefore: true, change: func(o *observed) {
			for _, md := range o.MachineDeployments {
				md.Status.UpToDateReplicas = ptr.To[int32](1)
			}
		}, phase: runv1alpha3.PhaseUpdating, ready: corev1.ConditionFalse, readyReason: runv1alpha3.NodePoolsUpdatingReason},
		{name: "CNI failed", change: func(o *observed) { o.Binding.Spec.Bindings[0].Resources[0].Applied = ptr.To(false) },
			phase: runv1alpha3.PhaseCreating, ready: corev1.ConditionFalse, readyReason: runv1alpha3.AddonsReconciliationFailedReason},
		{name: "CNI pending", change: func(o *observed) { o.Binding = nil },
			phase: runv1alpha3.PhaseCreating, ready: corev1.ConditionFalse, readyReason: runv1alpha3.WaitingForControlPlaneReason},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tkc, o := statusFixture(t)
			if tc.ranBefore {
				tkc.Status.Version = "v1.18.20+vmware.1-tkg.1"
			}
			obs := running(o)
			if tc.change != nil {
				tc.change(&obs)
			}
			setStatus(tkc, o, obs, now)
			ready := condition(tkc, runv1alpha3.ReadyCondition)
			if tkc.Status.Phase != tc.phase || ready.Status != tc.ready || ready.Reason != tc.readyReason {
				t.Errorf("phase %q, Ready %s %s (%s); want %q, %s %s", tkc.Status.Phase, ready.Status, ready.Reason, ready.Message,
					tc.phase, tc.ready, tc.readyReason)
			}
			if tc.ready == corev1.ConditionFalse && ready.Message == "" {
				t.Error("a False Ready condition must say what is awaited")
			}
		})
	}

	tkc, o := statusFixture(t)
	setStatus(tkc, o, running(o), now)
	s := tkc.Status
	if len(s.APIEndpoints) != 1 || s.APIEndpoints[0].Host != "127.30.0.5" || s.Version != "v1.18.20+vmware.1-tkg.1" ||
		s.TotalWorkerReplicas != 3 || s.Addons[0].Conditions[0].Status != corev1.ConditionTrue {
		t.Errorf("running status = %+v", s)
	}
	// A later status keeps the transition time of unchanged conditions.
	setStatus(tkc, o, running(o), metav1.NewTime(now.Add(time.Hour)))
	if c := condition(tkc, runv1alpha3.ReadyCondition); !c.LastTransitionTime.Equal(&now) {
		t.Errorf("Ready moved to %v without a transition", c.LastTransitionTime)
	}
}

func TestMachineStates(t *testing.T) {
	deleting := metav1.Now()
	machines := []clusterv1.Machine{
		{ObjectMeta: metav1.ObjectMeta{Name: "m-pending"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m-on"}, Spec: clusterv1.MachineSpec{InfrastructureRef: clusterv1.ContractVersionedObjectReference{Name: "vm-on"}},
			Status: clusterv1.MachineStatus{Initialization: clusterv1.MachineInitializationStatus{InfrastructureProvisioned: ptr.To(true)}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m-ready"}, Status: clusterv1.MachineStatus{NodeRef: clusterv1.MachineNodeReference{Name: "node-ready"},
			Conditions: []metav1.Condition{{Type: clusterv1.MachineNodeReadyCondition, Status: metav1.ConditionTrue}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m-gone", DeletionTimestamp: &deleting}},
	}
	vms, nodes := machineStates(machines)
	want := map[string]runv1alpha3.VirtualMachineState{"m-pending": "pending", "vm-on": "poweredon", "m-ready": "ready", "m-gone": "deleting"}
	for k, v := range want {
		if vms[k] != v {
			t.Errorf("vmStatus[%s] = %q, want %q", k, vms[k], v)
		}
	}
	if nodes["node-ready"] != runv1alpha3.NodeStatusReady || nodes["m-pending"] != runv1alpha3.NodeStatusPending {
		t.Errorf("nodeStatus = %v", nodes)
	}
}

// A class, image or release change renames the machine template, so
// Cluster API rolls the machines; an unchanged spec keeps the name.
func TestTemplatesNamedBySpec(t *testing.T) {
	tkc, o := statusFixture(t)
	again, _ := statusFixture(t)
	_, o2 := statusFixture(t)
	if o.MachineTemplates[1].Name != o2.MachineTemplates[1].Name {
		t.Error("the same spec must give the same template name")
	}
	again.Spec.Topology.NodePools[0].VMClass = "best-effort-large"
	o3, err := desiredObjects(again, map[string]release{release118: {Name: release118, KubernetesVersion: "v1.18.20", Image: "img"}})
	if err != nil {
		t.Fatal(err)
	}
	if o3.MachineTemplates[1].Name == o.MachineTemplates[1].Name || o3.MachineDeployments[0].Spec.Template.Spec.InfrastructureRef.Name != o3.MachineTemplates[1].Name {
		t.Error("a class change must give the pool a new template, referenced by its MachineDeployment")
	}
	tkc.Spec.Topology.ControlPlane.TKR.Reference.Name = "v9.9.9---missing"
	if _, err := desiredObjects(tkc, nil); err == nil {
		t.Error("a missing release must be reported")
	}
}
