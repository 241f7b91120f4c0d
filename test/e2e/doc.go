// Package e2e runs the supervisor binary the way `make run` does (the
// embedded stack: vcsim, etcd, kube-apiserver, HAProxy, the manager) and
// drives it only through the kubeconfig and the env file it writes, as a
// user would.
//
// It holds tests only; nothing may import it.
package e2e
