// Package tanzukubernetescluster owns the lifecycle of TanzuKubernetesClusters:
//
//   - admission webhooks: defaulting and validation of v1alpha1, v1alpha2 and
//     v1alpha3 (each in its own field names) and the conversion endpoint
//     through the v1alpha3 hub. The rules are pure functions in api/run; the
//     webhooks feed them facts read from the API server (ClientLookups).
//   - the Reconciler: each cluster, read as the hub, becomes explicit Cluster
//     API objects (Cluster, VSphereCluster, KubeadmControlPlane, one
//     MachineDeployment per node pool, their templates) and a
//     ClusterResourceSet that applies its CNI (Antrea or Calico, from
//     templates/) in the guest cluster; their progress is written back as
//     conditions, phase, endpoints and VM, node and addon states. Deleting a
//     cluster deletes all of it explicitly, since the embedded supervisor
//     has no garbage collector.
//   - ShippedReleases: the TanzuKubernetesReleases of the node images the
//     supervisor ships.
//
// It reads Cluster API and vm-operator objects, never vCenter.
package tanzukubernetescluster
