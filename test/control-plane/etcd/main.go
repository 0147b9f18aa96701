// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 for
// Switchyard's test control plane (Debian's etcd package is too old).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
