// Command etcdsim is simrun with one more protocol: etcd's Raft library,
// driven by the adapter in package etcdraft. It is what a user of simrun
// writes to test their own protocol: the whole simrun command line (run,
// sweep, shrink, merge, protocols) over the shipped protocols plus theirs.
//
//	go run ./cmd/etcdsim sweep scenarios/etcdraft-crash-churn.yaml --seeds 200
package main

import (
	"github.com/simrun/simrun/cli"
	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/registry"
)

func main() {
	cli.Program{Name: "etcdsim", Protocols: append(registry.Shipped(), etcdraft.Protocol())}.Main()
}
