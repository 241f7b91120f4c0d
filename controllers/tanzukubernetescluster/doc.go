// Package tanzukubernetescluster owns the lifecycle of TanzuKubernetesClusters.
// For now it holds their admission webhooks: defaulting and validation of
// v1alpha1, v1alpha2 and v1alpha3 (each in its own field names), and the
// conversion endpoint through the v1alpha3 hub. The rules themselves are
// pure functions in api/run; this package only feeds them facts read from
// the API server (VM classes, storage classes, releases, the supervisor's
// ranges, the default CNI). The reconciler that turns a cluster into
// Cluster API objects will live here too.
package tanzukubernetescluster
