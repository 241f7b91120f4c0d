package testfixtures

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/open-supervisor/supervisor/api/run/v1alpha3"
)

// Time is a timestamp that survives JSON (whole seconds, UTC).
var Time = metav1.NewTime(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))

// Release names used by the fixtures.
const (
	Release118 = "v1.18.20---vmware.1-tkg.1"
	Release119 = "v1.19.16---vmware.1-tkg.1"
)

// Network is a fully filled network section.
func Network() *v1alpha3.Network {
	return &v1alpha3.Network{
		Services:      &v1alpha3.NetworkRanges{CIDRBlocks: []string{"10.96.0.0/12"}},
		Pods:          &v1alpha3.NetworkRanges{CIDRBlocks: []string{"192.168.0.0/16", "172.16.0.0/16"}},
		ServiceDomain: "cluster.local",
		CNI:           &v1alpha3.CNIConfiguration{Name: "antrea"},
		Proxy: &v1alpha3.ProxyConfiguration{
			HttpProxy: ptr.To("http://proxy:3128"), HttpsProxy: ptr.To("http://proxy:3128"),
			NoProxy: []string{"localhost", "10.0.0.0/8"},
		},
		Trust: &v1alpha3.TrustConfiguration{AdditionalTrustedCAs: []v1alpha3.TLSCertificate{{Name: "harbor-ca", Data: "LS0tLS1CRUdJTi4uLg=="}}},
	}
}

func release(name string) v1alpha3.TKRReference {
	return v1alpha3.TKRReference{Reference: &corev1.ObjectReference{Name: name}}
}

// HubClusters are v1alpha3 clusters: fully filled, without pools, and with
// pools on different releases.
func HubClusters() []*v1alpha3.TanzuKubernetesCluster {
	full := &v1alpha3.TanzuKubernetesCluster{
		ObjectMeta: metav1.ObjectMeta{
			Name: "tkc", Namespace: "ns1", Labels: map[string]string{"team": "a"},
			Annotations: map[string]string{"run.tanzu.vmware.com/resolve-os-image": "os-name=ubuntu"},
		},
		Spec: v1alpha3.TanzuKubernetesClusterSpec{
			Topology: v1alpha3.Topology{
				ControlPlane: v1alpha3.TopologySettings{
					Replicas: ptr.To[int32](3), VMClass: "guaranteed-small", StorageClass: "k8s-storage",
					Volumes: []v1alpha3.Volume{{Name: "etcd", MountPath: "/var/lib/etcd",
						Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("4Gi")}, StorageClass: "fast"}},
					TKR:              release(Release119),
					NodeDrainTimeout: &metav1.Duration{Duration: 5 * time.Minute},
				},
				NodePools: []v1alpha3.NodePool{{
					Name:          "np-1",
					Labels:        map[string]string{"pool": "1"},
					Taints:        []corev1.Taint{{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}},
					FailureDomain: ptr.To("zone-a"),
					TopologySettings: v1alpha3.TopologySettings{
						VMClass: "best-effort-medium", StorageClass: "k8s-storage", TKR: release(Release119),
						Volumes: []v1alpha3.Volume{{Name: "containerd", MountPath: "/var/lib/containerd",
							Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("50Gi")}}},
					},
				}, {
					Name:             "np-2",
					TopologySettings: v1alpha3.TopologySettings{Replicas: ptr.To[int32](2), VMClass: "best-effort-small", StorageClass: "k8s-storage", TKR: release(Release118)},
				}},
			},
			Settings: &v1alpha3.Settings{
				Network: Network(),
				Storage: &v1alpha3.Storage{Classes: []string{"k8s-storage", "fast"}, DefaultClass: "fast"},
			},
		},
		Status: v1alpha3.TanzuKubernetesClusterStatus{
			APIEndpoints: []v1alpha3.APIEndpoint{{Host: "127.30.0.5", Port: 6443}},
			Version:      "v1.19.16+vmware.1-tkg.1",
			Addons: []v1alpha3.AddonStatus{
				{Name: "antrea", Type: v1alpha3.AddonCNI, Version: "1.2.3", Conditions: v1alpha3.Conditions{
					{Type: v1alpha3.ProvisionedCondition, Status: corev1.ConditionTrue, LastTransitionTime: Time}}},
				{Name: "metrics-server", Type: v1alpha3.AddonMetricsServer, Version: "0.6"},
			},
			Phase: v1alpha3.PhaseRunning,
			Conditions: v1alpha3.Conditions{{Type: v1alpha3.ReadyCondition, Status: corev1.ConditionFalse,
				Severity: v1alpha3.ConditionSeverityWarning, Reason: v1alpha3.NodePoolsUpdatingReason, Message: "np-2 updating", LastTransitionTime: Time}},
			TotalWorkerReplicas: 3,
			VMStatus: map[string]v1alpha3.VirtualMachineState{
				"tkc-cp-1": v1alpha3.VirtualMachineStateReady, "tkc-np-1-2": v1alpha3.VirtualMachineStatePending},
			NodeStatus: map[string]v1alpha3.NodeStatus{"tkc-cp-1": v1alpha3.NodeStatusReady, "tkc-np-1-2": v1alpha3.NodeStatusPending},
		},
	}
	noPools := full.DeepCopy()
	noPools.Spec.Topology.NodePools = nil
	noPools.Spec.Topology.ControlPlane.Replicas = nil
	noPools.Spec.Settings = nil
	noPools.Status = v1alpha3.TanzuKubernetesClusterStatus{}

	simple := full.DeepCopy()
	simple.Spec.Topology.NodePools = simple.Spec.Topology.NodePools[1:]
	simple.Spec.Topology.NodePools[0].Name = "workers"
	simple.Spec.Topology.ControlPlane.Volumes = nil
	simple.Spec.Topology.ControlPlane.NodeDrainTimeout = nil
	simple.Spec.Topology.ControlPlane.TKR = release(Release118)
	return []*v1alpha3.TanzuKubernetesCluster{full, noPools, simple}
}
