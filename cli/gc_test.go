package cli

import (
	"os"
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

func TestManyRunsRaiseTheGCTargetUnlessGOGCIsSet(t *testing.T) {
	before := gcPercent()
	if v, set := os.LookupEnv("GOGC"); set {
		t.Cleanup(func() { os.Setenv("GOGC", v) })
	}
	os.Unsetenv("GOGC")
	restore := collectLessForManyRuns()
	require.Equal(t, manyRunsGCPercent, gcPercent())
	restore()
	require.Equal(t, before, gcPercent(), "restored after the command")

	t.Setenv("GOGC", "150")
	restore = collectLessForManyRuns()
	require.Equal(t, before, gcPercent(), "the user's GOGC stands")
	restore()
}

// Two commands of one process overlapping (a user's binary running two
// sweeps) leave the target raised until the last one returns, then put
// back what the first one found.
func TestOverlappingManyRunsRestoreTheTargetOnce(t *testing.T) {
	before := gcPercent()
	t.Setenv("GOGC", "")
	first := collectLessForManyRuns()
	second := collectLessForManyRuns()
	first()
	require.Equal(t, manyRunsGCPercent, gcPercent(), "the second command still runs")
	second()
	require.Equal(t, before, gcPercent())
}
