package main

import (
	"github.com/simrun/simrun/cli"
	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/registry"
)

func main() {
	cli.Program{Name: "etcdsim", Protocols: append(registry.Shipped(), etcdraft.Protocol())}.Main()
}
