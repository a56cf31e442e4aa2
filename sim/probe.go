package sim

import (
	"maps"
	"slices"
)

// Coverage probes (FoundationDB's CODE_PROBE, Antithesis' "sometimes"
// assertions). A protocol marks each acceptance or rejection check and each
// rare path with a named probe; the world counts how often each fired, and
// sweeps list the probes that never did: a check no seed ever exercises is a
// check no bug in it would be caught by. Counting changes nothing in the run
// and nothing in the trace, so adding probes to code never changes what a
// seed means.

// Prober is implemented by the kernel's Env: an Env that does not (a test's
// scripted one) simply does not count.
type Prober interface {
	Probe(name string)
}

// Probe counts one firing of the probe name on env's world, if env counts
// probes. Name probes "<protocol>/<what happened>", e.g.
// "pbft/pre-prepare-rejected-bad-signature".
func Probe(env Env, name string) {
	if p, ok := env.(Prober); ok {
		p.Probe(name)
	}
}

func (e *nodeEnv) Probe(name string) {
	if e.w.probes == nil {
		e.w.probes = map[string]uint64{}
	}
	e.w.probes[name]++
}

// Probes returns how often each probe fired so far; a probe that never fired
// is absent. The map is a copy.
func (w *World) Probes() map[string]uint64 { return maps.Clone(w.probes) }

// ProbeNames returns the names of the probes that fired, sorted.
func (w *World) ProbeNames() []string { return slices.Sorted(maps.Keys(w.probes)) }
