package main

import (
	"github.com/simrun/simrun/cli"
	"github.com/simrun/simrun/examples/primarybackup"
	"github.com/simrun/simrun/registry"
)

func main() {
	cli.Program{Name: "pbsim", Protocols: append(registry.Shipped(), primarybackup.Protocol())}.Main()
}
