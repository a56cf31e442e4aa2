package simtest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/faults"
	"github.com/simrun/simrun/simtest"
)

// TestFaultsDrawTornStepsAndRepeats: the timelines a property test draws
// hold crashes inside a step (the only fault that shows a send before a
// sync) and crashes and pauses that repeat to the end of the safety phase,
// every step valid for the cluster and never more than a minority down.
func TestFaultsDrawTornStepsAndRepeats(t *testing.T) {
	const n, d = 5, 4 * time.Second
	midStep, repeating := 0, 0
	for i := range 200 {
		for _, s := range simtest.Faults(n, d).Example(i) {
			require.NoError(t, s.Validate(n), "example %d: %s", i, s.Describe())
			if s.MidStep {
				midStep++
				require.NotEqual(t, faults.Target{}, s.Crash, "only a crash strikes mid-step")
			}
			if s.Repeats() {
				repeating++
				require.Equal(t, faults.Duration(d), s.To, "a repeating step runs to the end of the safety phase")
				require.Less(t, s.From, faults.Duration(d))
			}
			if s.MaxDown > 0 {
				require.Less(t, 2*s.MaxDown, n, "a majority stays up")
			}
		}
	}
	require.Greater(t, midStep, 20, "mid-step crashes in 200 timelines")
	require.Greater(t, repeating, 20, "repeating crashes and pauses in 200 timelines")
}
