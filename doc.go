// Command supervisor is the Open Supervisor manager: one controller-runtime
// manager running everything manager.Setup registers (Cluster API, the
// infrastructure provider, the VM service against vCenter, the
// TanzuKubernetesCluster, release and namespace controllers, lbapi and the
// admission webhooks). With --embedded it first starts the embedded stack
// (embedded.Start: a vCenter simulator, etcd, kube-apiserver,
// kube-controller-manager and HAProxy; `make run`), so it needs nothing
// else. main.go holds flags and process concerns only; the wiring is
// manager.Setup's.
package main
