package cli

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// gcPercent reads the garbage collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// memoryLimit reads the soft memory limit without changing it.
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// untunedCollector gives the test a collector nobody tuned (whatever the
// environment it runs in: GOMEMLIMIT is read when the process starts) and
// puts the process's settings back after it.
func untunedCollector(t *testing.T) {
	percent, limit := gcPercent(), memoryLimit()
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

// manyRunsFor starts a command of workers workers; the returned restore may
// be called once, and is called at the test's end if it was not.
func manyRunsFor(t *testing.T, workers int) (restore func()) {
	restore = sync.OnceFunc(collectLessForManyRuns(workers))
	t.Cleanup(restore)
	return restore
}

func TestManyRunsTuneTheCollector(t *testing.T) {
	untunedCollector(t)
	restore := manyRunsFor(t, 3)
	require.Equal(t, manyRunsGCPercent, gcPercent())
	require.Equal(t, int64(3*manyRunsMemoryPerWorker), memoryLimit())
	restore()
	require.Equal(t, 100, gcPercent(), "restored after the command")
	require.Equal(t, int64(math.MaxInt64), memoryLimit(), "restored after the command")

	restore = manyRunsFor(t, 0)
	require.Equal(t, int64(runtime.GOMAXPROCS(0))*manyRunsMemoryPerWorker, memoryLimit(), "0 workers: one per CPU")
	restore()
}

// A user's GOGC or GOMEMLIMIT, or a limit the program set, leaves the
// collector alone altogether.
func TestManyRunsLeaveATunedCollectorAlone(t *testing.T) {
	for _, tune := range []func(t *testing.T){
		func(t *testing.T) { t.Setenv("GOGC", "150") },
		func(t *testing.T) { t.Setenv("GOMEMLIMIT", "1GiB") },
		func(*testing.T) { debug.SetMemoryLimit(1 << 30) },
	} {
		untunedCollector(t)
		tune(t)
		percent, limit := gcPercent(), memoryLimit()
		restore := manyRunsFor(t, 3)
		require.Equal(t, percent, gcPercent())
		require.Equal(t, limit, memoryLimit())
		restore()
		require.Equal(t, percent, gcPercent())
		require.Equal(t, limit, memoryLimit())
	}
}

// Settings the program changes while a command runs stand, then and after.
func TestManyRunsKeepWhatTheProgramSetMeanwhile(t *testing.T) {
	untunedCollector(t)
	first := manyRunsFor(t, 1)
	debug.SetMemoryLimit(3 << 30)
	debug.SetGCPercent(50)
	second := manyRunsFor(t, 2)
	require.Equal(t, int64(3<<30), memoryLimit(), "a second command does not take the limit back")
	second()
	first()
	require.Equal(t, int64(3<<30), memoryLimit())
	require.Equal(t, 50, gcPercent())
}

// Two commands of one process overlapping (a user's binary running two
// sweeps) leave the target raised until the last one returns, with a limit
// for the workers of both while both run, then put back what the first one
// found.
func TestOverlappingManyRunsRestoreTheCollectorOnce(t *testing.T) {
	untunedCollector(t)
	first := manyRunsFor(t, 2)
	second := manyRunsFor(t, 1)
	require.Equal(t, int64(3*manyRunsMemoryPerWorker), memoryLimit())
	first()
	require.Equal(t, manyRunsGCPercent, gcPercent(), "the second command still runs")
	require.Equal(t, int64(manyRunsMemoryPerWorker), memoryLimit())
	second()
	require.Equal(t, 100, gcPercent())
	require.Equal(t, int64(math.MaxInt64), memoryLimit())
}

// A sweep sizes the collector's memory limit by the worlds it runs at once:
// --parallel, or one per CPU, but no more than a scenario's seeds (a
// one-seed sweep of an hour-long run kept twice the limit it needed).
func TestWorldsAtOnce(t *testing.T) {
	cpus := runtime.GOMAXPROCS(0)
	require.Equal(t, 3, worldsAtOnce(sweepFlags{parallel: 3, seeds: 100}))
	require.Equal(t, 1, worldsAtOnce(sweepFlags{parallel: 3, seeds: 1}))
	require.Equal(t, cpus, worldsAtOnce(sweepFlags{seeds: uint64(cpus) + 5}))
	require.Equal(t, 1, worldsAtOnce(sweepFlags{seeds: 1}))
}
