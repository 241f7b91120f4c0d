// Package kube runs the embedded stack's local Kubernetes control plane:
// etcd, kube-apiserver and kube-controller-manager, the binaries `make
// tools` builds into bin/. The API server gets the project's CRDs and
// admission webhook configurations (on request also Cluster API's); the
// controller manager runs what any cluster relies on (garbage collector,
// namespace deletion, PVC and PV protection, service accounts and their
// tokens), so controllers use owner references and finalizers as they
// would anywhere. The caller's manager serves the webhooks
// (WebhookOptions).
//
// It owns those processes, their flags, credentials and temporary files,
// and nothing else: it registers no controllers and creates no objects
// (embedded/fixtures does), and it must not import anything under test/.
// The embedded stack (`make run`), every test suite and the test harness
// start it through StartWith.
package kube
