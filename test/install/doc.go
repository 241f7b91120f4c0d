// Package install tests the production install: config/default rendered
// with kustomize as `kubectl apply -k` does, applied to a plain
// kube-apiserver (no envtest CRD or webhook install), with the supervisor
// binary run against it as a user runs it, outside the embedded stack.
package install
