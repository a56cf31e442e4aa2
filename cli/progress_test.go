package cli

import (
	"bytes"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/runner"
)

// TestProgressCountsWhatAnEarlierSweepDid: a continued sweep's lines count
// the seeds of its range an earlier sweep finished, and say so; one with
// nothing left to run says that rather than 0/0 at 0 seeds a second.
func TestProgressCountsWhatAnEarlierSweepDid(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "calm", 925, 75, 5)
	p.add(false)
	p.add(true)
	p.finish()
	require.Regexp(t, `^sweep calm: 77/1000 seeds \(75 by an earlier sweep\), 6 failed, [0-9.]+ seeds/s\n$`, out.String(),
		"the failures an earlier sweep found count, as its seeds do")

	out.Reset()
	newProgress(&out, "calm", 0, 1000, 0).finish()
	require.Equal(t, "sweep calm: nothing to run, all 1000 seeds were finished by an earlier sweep\n", out.String())
}

// TestInterruptedSweepSaysHowMuchOfItsRangeRan: the summary of a sweep
// that did not finish its range counts "N of M seeds"; continued to the
// end, it counts them all, and running it again runs nothing.
func TestInterruptedSweepSaysHowMuchOfItsRangeRan(t *testing.T) {
	out := t.TempDir()
	scenario := filepath.Join("..", "scenarios", "raft-calm.yaml")
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "3", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "sweep       raft-calm: 3 seeds (scenario hash ")
	require.Contains(t, stdout, "\npage        simrun report "+out+" draws the page of every result under it, earlier sweeps' included (rates, timings, a page per failure)\n")
	require.Regexp(t, regexp.MustCompile(`sweep raft-calm: 3/3 seeds \(2 by an earlier sweep\), 0 failed`), errOut)
	code, _, errOut = simrun(t, "sweep", scenario, "--seeds", "3", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, errOut, "sweep raft-calm: nothing to run, all 3 seeds were finished by an earlier sweep\n")

	tl := newTally("s", "h")
	tl.of = 1000
	for seed := range uint64(75) {
		tl.add(result{Report: runner.Report{Scenario: "s", Seed: seed + 1, Class: runner.Pass, Hash: "00000000000000aa"}})
	}
	var summary bytes.Buffer
	tl.print(&summary, "results.jsonl", "simrun")
	require.Contains(t, summary.String(), "sweep       s: 75 of 1000 seeds (scenario hash h)\n")
}
