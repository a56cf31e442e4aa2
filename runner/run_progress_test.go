package runner_test

import (
	"testing"
	"time"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

// TestProgressChangesNothing: a run watched through Options.Progress, which
// runs the safety phase in steps, is the same run (same hash, events and
// verdict), and the calls climb a step at a time to the scenario's duration.
func TestProgressChangesNothing(t *testing.T) {
	for _, file := range []string{"../scenarios/raft-crash-churn.yaml", "../scenarios/bugs/raft-bug-ack-before-sync.yaml"} {
		sc, err := scenarios.ParseFile(file)
		require.NoError(t, err)
		proto, err := registry.Resolve(sc)
		require.NoError(t, err)
		plain, err := runner.Run(sc, proto, runner.Options{Seed: 1, SkipHistoryCheck: true})
		require.NoError(t, err)
		var times []time.Duration
		var last uint64
		watched, err := runner.Run(sc, proto, runner.Options{Seed: 1, SkipHistoryCheck: true, Progress: func(now time.Duration, events uint64) {
			require.GreaterOrEqual(t, events, last)
			times, last = append(times, now), events
		}})
		require.NoError(t, err)
		require.Equal(t, plain.Hash, watched.Hash, file)
		require.Equal(t, plain.Events, watched.Events)
		require.Equal(t, plain.Class, watched.Class)
		require.NotEmpty(t, times)
		for i, now := range times[:len(times)-1] {
			require.Equal(t, time.Duration(i+1)*runner.ProgressStep, now)
		}
		if !plain.Class.Failed() {
			require.Equal(t, time.Duration(sc.Duration), times[len(times)-1], "the last call is at the end of the safety phase")
		}
	}
}
