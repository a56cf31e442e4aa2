package runner_test

import (
	"path/filepath"
	"testing"

	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

// TestShrinkPlantedBugs: for every planted bug, shrinking its first failing
// seed gives a smaller scenario that, written out and read back, still fails
// the same way.
func TestShrinkPlantedBugs(t *testing.T) {
	if testing.Short() {
		t.Skip("shrinks every planted bug")
	}
	for _, b := range plantedBugs {
		t.Run(b.file, func(t *testing.T) {
			sc, proto := load(t, filepath.Join("bugs", b.file), 0)
			seed := firstFailingSeed(t, sc, proto, b.maxSeeds)
			res, err := runner.Shrink(sc, runner.ShrinkOptions{Protocol: proto, Seed: seed, MaxRuns: 80})
			require.NoError(t, err)
			require.True(t, res.Report.Class.Failed())
			require.Less(t, res.After.Events, res.Before.Events, "smaller run")
			require.LessOrEqual(t, res.After.Firings, res.Before.Firings)
			text, err := res.Scenario.Marshal()
			require.NoError(t, err)
			again, err := scenarios.Parse("shrunk.yaml", text)
			require.NoError(t, err, "%s", text)
			replay := runSeed(t, again, proto, *again.Seed)
			require.Equal(t, res.Report.Hash, replay.Hash, "the written scenario replays the shrunk run:\n%s", text)
			t.Logf("seed %d: before %s; after %s; %d runs", seed, res.Before, res.After, res.Runs)
		})
	}
}

func firstFailingSeed(t *testing.T, sc *scenarios.Scenario, proto runner.Protocol, bound uint64) uint64 {
	t.Helper()
	for seed := uint64(1); seed <= bound; seed++ {
		if runSeed(t, sc, proto, seed).Class.Failed() {
			return seed
		}
	}
	t.Fatalf("no failing seed in %d", bound)
	return 0
}

func TestShrinkRefusesAPassingSeed(t *testing.T) {
	sc, proto := load(t, "raft-calm.yaml", 0)
	_, err := runner.Shrink(sc, runner.ShrinkOptions{Protocol: proto, Seed: 1, MaxRuns: 5})
	require.ErrorContains(t, err, "passes: nothing to shrink")
}
