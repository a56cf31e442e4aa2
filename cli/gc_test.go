package cli

import (
	"os"
	"runtime"
	"runtime/debug"
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

// unsetenv unsets key for the test and puts it back after.
func unsetenv(t *testing.T, key string) {
	if v, set := os.LookupEnv(key); set {
		t.Cleanup(func() { os.Setenv(key, v) })
	}
	os.Unsetenv(key)
}

func TestManyRunsTuneTheCollectorUnlessTheUserDid(t *testing.T) {
	percent, limit := gcPercent(), memoryLimit()
	unsetenv(t, "GOGC")
	unsetenv(t, "GOMEMLIMIT")
	restore := collectLessForManyRuns(3)
	require.Equal(t, manyRunsGCPercent, gcPercent())
	require.Equal(t, int64(3*manyRunsMemoryPerWorker), memoryLimit())
	restore()
	require.Equal(t, percent, gcPercent(), "restored after the command")
	require.Equal(t, limit, memoryLimit(), "restored after the command")

	restore = collectLessForManyRuns(0)
	require.Equal(t, int64(runtime.GOMAXPROCS(0))*manyRunsMemoryPerWorker, memoryLimit(), "0 workers: one per CPU")
	restore()

	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = collectLessForManyRuns(3)
	require.Equal(t, percent, gcPercent(), "the user's GOGC stands")
	require.Equal(t, limit, memoryLimit(), "the user's GOMEMLIMIT stands")
	restore()

	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(1 << 30) // as a program embedding the command might
	t.Cleanup(func() { debug.SetMemoryLimit(limit) })
	restore = collectLessForManyRuns(3)
	require.Equal(t, int64(1<<30), memoryLimit(), "the program's limit stands")
	restore()
	require.Equal(t, int64(1<<30), memoryLimit())
}

// Two commands of one process overlapping (a user's binary running two
// sweeps) leave the target raised until the last one returns, with a limit
// for the workers of both while both run, then put back what the first one
// found.
func TestOverlappingManyRunsRestoreTheCollectorOnce(t *testing.T) {
	percent, limit := gcPercent(), memoryLimit()
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	first := collectLessForManyRuns(2)
	second := collectLessForManyRuns(1)
	require.Equal(t, int64(3*manyRunsMemoryPerWorker), memoryLimit())
	first()
	require.Equal(t, manyRunsGCPercent, gcPercent(), "the second command still runs")
	require.Equal(t, int64(manyRunsMemoryPerWorker), memoryLimit())
	second()
	require.Equal(t, percent, gcPercent())
	require.Equal(t, limit, memoryLimit())
}
