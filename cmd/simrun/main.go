package main

import "github.com/simrun/simrun/cli"

func main() {
	cli.Program{Name: "simrun"}.Main()
}
