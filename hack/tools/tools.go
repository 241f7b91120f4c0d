//go:build tools

// Package tools pins the versions of the development binaries built by
// hack/build-tools.sh. It is never compiled into the project.
package tools

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
