// Package cli is the simulator's command line, for the shipped simrun binary
// and for a user's own binary with its own protocols (Program). `run` runs
// one seed of a scenario file and judges it, `sweep` runs many seeds in
// parallel worlds, `shrink` cuts a failure down to a minimal scenario, `merge`
// combines sharded results, `protocols` lists what a scenario can name, and
// `version` says which build this is. Exit codes separate a pass, a
// safety violation, a liveness violation, a protocol crash, an inconclusive run
// and bad input, so scripts can act on them.
package cli
