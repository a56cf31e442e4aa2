// Command simrun is the command-line face of the simulator: `simrun run` runs
// one seed of a scenario file and judges it, `simrun sweep` runs many seeds in
// parallel worlds, `simrun protocols` lists what a scenario can name, and
// `simrun version` says which build this is. Exit codes separate a pass, a
// safety violation, a liveness violation, a protocol crash, an inconclusive run
// and bad input, so scripts can act on them.
package main
