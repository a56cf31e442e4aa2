package cli

import (
	"bytes"
	"testing"

	"github.com/simrun/simrun/runner"
	"github.com/stretchr/testify/require"
)

// TestSummaryProbeLine: the summary names how many declared probes fired in
// some seed and the ones none did, whatever order the results come in and
// whichever seeds a sweep's range keeps.
func TestSummaryProbeLine(t *testing.T) {
	declared := []runner.Named{{Name: "p/a"}, {Name: "p/b"}, {Name: "p/c"}, {Name: "p/d"}}
	results := []result{
		{Report: runner.Report{Scenario: "s", Seed: 1, Class: runner.Pass, Hash: "1", Probes: map[string]uint64{"p/a": 3}}},
		{Report: runner.Report{Scenario: "s", Seed: 2, Class: runner.Pass, Hash: "2", Probes: map[string]uint64{"p/c": 1, "p/x": 1}}},
		{Report: runner.Report{Scenario: "s", Seed: 3, Class: runner.Pass, Hash: "3"}},
	}
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		tl := newTally("s", "h")
		for _, i := range order {
			tl.add(results[i])
		}
		tl.probes = declared
		var out bytes.Buffer
		tl.print(&out, "results.jsonl", "simrun")
		require.Contains(t, out.String(), "probes      2/4 fired; never: p/b, p/d\n")
		one := tl.only(func(seed uint64) bool { return seed == 1 })
		require.Equal(t, "1/4 fired; never: p/b, p/c, p/d", one.probeLine())
	}
	require.Empty(t, newTally("s", "h").probeLine(), "no probes declared, no line")
}
