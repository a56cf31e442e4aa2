package etcdraft_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/examples/etcdraft/etcdraft"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// scenarioPath is the path of a scenario of the example, name being
// relative to its scenarios/ folder.
func scenarioPath(name string) string { return filepath.Join("..", "scenarios", name) }

// load parses a scenario of the example, with its safety phase cut to
// duration if that is positive.
func load(t testing.TB, name string, duration time.Duration) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.ParseFile(scenarioPath(name))
	require.NoError(t, err)
	if duration > 0 {
		sc.Duration = scenarios.Duration(duration)
	}
	return sc
}

// edited parses a scenario of the example after edit has rewritten its
// text, which it must change: a variant of a shipped file rather than a copy
// that drifts from it.
func edited(t testing.TB, name string, edit func(string) string) *scenarios.Scenario {
	t.Helper()
	path := scenarioPath(name)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := edit(string(data))
	require.NotEqual(t, string(data), text, "%s: the edit finds nothing to change", name)
	sc, err := scenarios.Parse(path, []byte(text))
	require.NoError(t, err)
	return sc
}

// bugsLine is the protocol_options.bugs line of a bug scenario.
var bugsLine = regexp.MustCompile(`(?m)^  bugs: \[.*\]$`)

// withoutBugs parses a scenario with its protocol_options.bugs emptied: the
// same faults against the correct adapter. The scenario must switch its bug
// on in that line.
func withoutBugs(t testing.TB, name string) *scenarios.Scenario {
	t.Helper()
	return edited(t, name, func(s string) string { return bugsLine.ReplaceAllString(s, "  bugs: []") })
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
