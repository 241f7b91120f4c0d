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
//     conditions, phase, endpoints and VM, node and addon states. Every
//     object it makes is controlled by the cluster: deleting a cluster
//     deletes its Cluster (Cluster API then deletes the machines and their
//     VMs in order) and holds the cluster, in phase deleting, until the
//     Cluster is gone; the garbage collector deletes the rest.
//   - ShippedReleases: the TanzuKubernetesReleases of the node images the
//     supervisor ships.
//
// It reads Cluster API and vm-operator objects and writes only the objects
// it owns and the clusters' status; it never talks to vCenter, never
// touches Machines, VirtualMachines or VMs (Cluster API and the
// infrastructure provider do), and never deletes by hand what the garbage
// collector deletes.
package tanzukubernetescluster
