// Command etcd is a thin wrapper around go.etcd.io/etcd/server/v3/etcdmain so
// that the etcd server can be built from this tools module at a pinned version
// (the etcd root module, go.etcd.io/etcd/v3, is not needed).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
