package cli

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// Commands that run many worlds one after another (sweep, shrink) tune Go's
// garbage collector, unless the user or the program running them did (GOGC,
// GOMEMLIMIT, a memory limit set with debug.SetMemoryLimit): then they leave
// it alone altogether. Each seed builds its world, checks it and drops it: a
// small live heap that the default target (100) collects several times a
// seed, handing freed pages back to the system in between. A high target
// collects rarely; a soft memory limit per worker keeps a long scenario's
// seeds (whose live heap is large, an hour of a busy cluster some 70 MB) from
// growing to the target's multiple of it: near the limit the collector works
// harder instead. See BENCHMARKS.md for the figures; a single run keeps Go's
// defaults, since a long one's heap is what its memory budget is about.
const (
	manyRunsGCPercent = 800
	// manyRunsMemoryPerWorker is the soft limit's share of one world run at
	// a time: the memory budget of an hour-long run with every check.
	manyRunsMemoryPerWorker = 256 << 20
)

// manyRuns tracks the commands that run many seeds now in this process (a
// user's binary may run two sweeps at once): the first one in decides
// whether to tune and saves the settings it found, the limit covers every
// active command's workers, and the last one out puts the settings back.
// Should the program change a setting meanwhile, the program's value stands.
var manyRuns struct {
	sync.Mutex
	active, workers int
	tuned           bool
	savedPercent    int
	savedLimit      int64
	limit           int64 // the limit last set here
}

// collectLessForManyRuns tunes the garbage collector for the duration of a
// command that runs workers worlds at a time (0: one per CPU), and returns
// what restores it.
func collectLessForManyRuns(workers int) (restore func()) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	manyRuns.Lock()
	defer manyRuns.Unlock()
	if manyRuns.active == 0 {
		limit := debug.SetMemoryLimit(-1)
		manyRuns.tuned = os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" && limit == math.MaxInt64
		if manyRuns.tuned {
			manyRuns.savedPercent = debug.SetGCPercent(manyRunsGCPercent)
			manyRuns.savedLimit, manyRuns.limit = limit, limit
		}
	}
	manyRuns.active++
	manyRuns.workers += workers
	setManyRunsLimit()
	return func() {
		manyRuns.Lock()
		defer manyRuns.Unlock()
		manyRuns.active--
		manyRuns.workers -= workers
		if manyRuns.active > 0 {
			setManyRunsLimit()
		} else if manyRuns.tuned {
			restoreManyRuns()
		}
	}
}

// setManyRunsLimit sets the soft memory limit for the active commands'
// workers, unless the limit is not ours (any more).
func setManyRunsLimit() {
	if !manyRuns.tuned || debug.SetMemoryLimit(-1) != manyRuns.limit {
		return
	}
	limit := int64(math.MaxInt64)
	if int64(manyRuns.workers) <= math.MaxInt64/manyRunsMemoryPerWorker {
		limit = int64(manyRuns.workers) * manyRunsMemoryPerWorker
	}
	debug.SetMemoryLimit(limit)
	manyRuns.limit = limit
}

// restoreManyRuns puts back the settings the first command found, each one
// that is still as it was set here.
func restoreManyRuns() {
	if debug.SetMemoryLimit(-1) == manyRuns.limit {
		debug.SetMemoryLimit(manyRuns.savedLimit)
	}
	if p := debug.SetGCPercent(manyRuns.savedPercent); p != manyRunsGCPercent {
		debug.SetGCPercent(p) // the program's own target stands
	}
}
