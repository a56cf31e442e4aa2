package main

import (
	"github.com/simrun/simrun/cli"
	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/registry"
)

func main() { program().Main() }

// program is etcdsim's command line: simrun's, with etcdraft beside the
// shipped protocols.
func program() cli.Program {
	return cli.Program{Name: "etcdsim", Protocols: append(registry.Shipped(), etcdraft.Protocol())}
}
