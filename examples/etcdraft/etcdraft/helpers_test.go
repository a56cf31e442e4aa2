package etcdraft_test

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// load parses a scenario of the example (a path under scenarios/), with its
// safety phase cut to duration if that is positive.
func load(t testing.TB, name string, duration time.Duration) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.ParseFile(filepath.Join("..", "scenarios", name))
	require.NoError(t, err)
	if duration > 0 {
		sc.Duration = scenarios.Duration(duration)
	}
	return sc
}

// withoutBugs parses a scenario with its protocol_options.bugs emptied: the
// same faults against the correct adapter.
func withoutBugs(t testing.TB, name string) *scenarios.Scenario {
	t.Helper()
	path := filepath.Join("..", "scenarios", name)
	data := readFile(t, path)
	fixed := regexp.MustCompile(`(?m)^  bugs: \[.*\]$`).ReplaceAll(data, []byte("  bugs: []"))
	require.NotEqual(t, string(data), string(fixed), "%s must switch its bug on in protocol_options.bugs", name)
	sc, err := scenarios.Parse(path, fixed)
	require.NoError(t, err)
	return sc
}

func runSeed(t testing.TB, sc *scenarios.Scenario, seed uint64) *runner.Report {
	t.Helper()
	rep, err := runner.Run(sc, etcdraft.Protocol(), runner.Options{Seed: seed})
	require.NoError(t, err)
	return rep
}

// seeds picks a seed count: full, or short under -short.
func seeds(full, short uint64) uint64 {
	if testing.Short() {
		return short
	}
	return full
}
