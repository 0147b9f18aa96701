// Command coredns is CoreDNS with only the plugins the test cluster's Corefile uses: kubernetes (Service and Pod
// records from the API), cache, health and ready. Built by ../build.sh; the directive order stays CoreDNS's own.
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"

	"github.com/coredns/coredns/coremain"
)

func main() { coremain.Run() }
