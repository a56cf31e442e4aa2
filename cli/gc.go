package cli

import (
	"os"
	"runtime/debug"
)

// manyRunsGCPercent is the garbage collector's target for commands that run
// many short worlds one after another (sweep, shrink), unless GOGC is set.
// Each seed builds its world, checks it and drops it: a small live heap
// that the default target (100) collects several times a seed, and whose
// freed pages the runtime hands back to the system in between. At 400 a
// sweep of raft-crash-churn spends about a third less CPU per seed (see
// BENCHMARKS.md) for about 20 MB more per worker; a single run keeps the
// default, since a long one's heap is what its memory budget is about.
const manyRunsGCPercent = 400

// collectLessForManyRuns raises the garbage collector's target for the
// duration of a command that runs many seeds, unless the user chose one
// with GOGC, and returns what restores it.
func collectLessForManyRuns() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(manyRunsGCPercent)
	return func() { debug.SetGCPercent(old) }
}
