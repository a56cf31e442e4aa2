package cli

import (
	"os"
	"runtime/debug"
	"sync"
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

// manyRuns counts the commands that run many seeds now in this process (a
// user's binary may run two sweeps at once): the first raises the target,
// the last one out puts back what it found.
var manyRuns struct {
	sync.Mutex
	active int
	saved  int
}

// collectLessForManyRuns raises the garbage collector's target for the
// duration of a command that runs many seeds, unless the user chose one
// with GOGC, and returns what restores it.
func collectLessForManyRuns() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	manyRuns.Lock()
	defer manyRuns.Unlock()
	if manyRuns.active == 0 {
		manyRuns.saved = debug.SetGCPercent(manyRunsGCPercent)
	}
	manyRuns.active++
	return func() {
		manyRuns.Lock()
		defer manyRuns.Unlock()
		manyRuns.active--
		if manyRuns.active == 0 {
			debug.SetGCPercent(manyRuns.saved)
		}
	}
}
