package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/simrun/simrun/runner"
	"github.com/stretchr/testify/require"
)

// TestSummaryProbeLine: the summary names how many declared probes fired in
// some seed, the ones none did, and those that fired undeclared (a misspelt
// name), whatever order the results come in and whichever seeds a sweep's
// range keeps.
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
		require.Contains(t, out.String(), "probes      2/4 fired; never: p/b, p/d; fired but not declared (a typo?): p/x\n")
		one := tl.only(func(seed uint64) bool { return seed == 1 })
		require.Equal(t, "1/4 fired; never: p/b, p/c, p/d", one.probeLine())
	}
	require.Empty(t, newTally("s", "h").probeLine(), "no probes declared or fired, no line")
}

// TestLongProbeListsWrap: the never-fired list of a protocol with many
// probes wraps after a comma, each line within the width and continued
// under the label's column, with no name lost or split.
func TestLongProbeListsWrap(t *testing.T) {
	line := "19/58 fired; never: raft/vote-rejected-lost-entries, raft/append-reject-of-older-term-ignored, " +
		"raft/old-term-entry-not-committed-by-count, raft/recovering-no-campaign, raft/read-served-after-round, " +
		"raft/a-probe-name-so-long-that-it-fills-a-line-on-its-own-and-then-some-more-and-more-and-more-and-more, raft/z"
	wrapped := wrapList(line, summaryWidth, "            ")
	lines := strings.Split(wrapped, "\n")
	require.Greater(t, len(lines), 2)
	for i, l := range lines {
		if i > 0 {
			require.True(t, strings.HasPrefix(l, "            raft/"), "continued under the label: %q", l)
		}
		if !strings.Contains(l, "so-long") {
			require.LessOrEqual(t, len(l)+len("probes      ")*btoi(i == 0), summaryWidth, "%q", l)
		}
		require.False(t, strings.HasSuffix(l, " "), "no trailing space: %q", l)
	}
	require.Equal(t, line, strings.ReplaceAll(wrapped, "\n            ", " "), "nothing lost")
	require.Equal(t, "2/4 fired; never: p/b, p/d", wrapList("2/4 fired; never: p/b, p/d", summaryWidth, "            "))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
