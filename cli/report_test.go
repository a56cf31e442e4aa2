package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
)

// TestReportCountsAsMergeDoes: the sweep page counts a directory's results
// as merge summarizes them, line for line: a definite verdict over an
// inconclusive one, a conflict as nondeterministic, only the latest build
// of a file a later build continued, seeds in order; every case ends its
// first file with a line cut short, which neither counts.
func TestReportCountsAsMergeDoes(t *testing.T) {
	const h, trace = "5ce0a11000000001", "00000000000000aa"
	pass := resultLine("s", h, 4, runner.Pass, trace)
	inconclusive := resultLine("s", h, 4, runner.Inconclusive, trace)
	built := func(line, build, trace string) string {
		return withField(t, withField(t, line, "build", build), "trace_hash", trace)
	}
	cases := []struct {
		name   string
		shards [][]string // the lines of each shard's results file
		want   func(t *testing.T, sc *report.Scenario)
	}{
		{"pass, then inconclusive", [][]string{{pass}, {inconclusive}}, nil},
		{"inconclusive, then pass", [][]string{{inconclusive}, {pass}}, nil},
		{"two definite verdicts", [][]string{{pass}, {resultLine("s", h, 4, runner.Safety, trace)}},
			func(t *testing.T, sc *report.Scenario) {
				require.Equal(t, "seed 4: trace hash "+trace+" judged pass and safety", sc.Results[0].Reason)
				require.Empty(t, sc.Results[0].Checks, "the conflict, not one side's checks")
			}},
		{"two builds, two traces", [][]string{
			{built(resultLine("s", h, 3, runner.Pass, trace), "b1", trace)},
			{built(resultLine("s", h, 2, runner.Pass, trace), "b2", trace), built(resultLine("s", h, 3, runner.Pass, trace), "b2", "00000000000000dd")}},
			func(t *testing.T, sc *report.Scenario) {
				require.Equal(t, "b1, b2", sc.Build)
				require.Equal(t, "seed 3: trace hash "+trace+" (build b1) and 00000000000000dd (build b2): the builds run it differently", sc.Results[1].Reason)
			}},
		{"a later build continued the file", [][]string{{resultLine("s", h, 1, runner.Safety, trace), built(resultLine("s", h, 1, runner.Pass, trace), "b2", trace)}},
			func(t *testing.T, sc *report.Scenario) {
				require.Equal(t, "b2", sc.Build)
				require.Regexp(t, `results.jsonl also holds 1 results of build unknown, which build b2 continued with --resume: left apart, not counted$`, sc.LeftApart)
			}},
		{"seeds out of order", [][]string{{resultLine("s", h, 9, runner.Pass, trace), resultLine("s", h, 2, runner.Pass, trace)}},
			func(t *testing.T, sc *report.Scenario) {
				require.Equal(t, []uint64{2, 9}, pageSeeds(sc))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, lines := range c.shards {
				writeResultsFile(t, filepath.Join(dir, "shard-"+strconv.Itoa(i), "s"), lines...)
			}
			cutShort(t, filepath.Join(dir, "shard-0", "s", "results.jsonl"))
			_, merged, _ := simrun(t, "merge", dir)
			scs, err := sweepScenarios(dir)
			require.NoError(t, err)
			require.Len(t, scs, 1)
			require.Equal(t, mergedClasses(merged), pageClasses(scs[0]), merged)
			if c.want != nil {
				c.want(t, scs[0])
			}
		})
	}
}

// cutShort appends the start of a line without its end, as a sweep
// interrupted while writing it leaves it.
func cutShort(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"scenario":"s","se`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// mergedClasses reads the seeds per class from merge's summary.
func mergedClasses(summary string) map[string]int {
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^  (\S+) +(\d+)$`).FindAllStringSubmatch(summary, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	return counts
}

// pageClasses counts the page's seeds per class, with pass always named,
// as merge's summary names it.
func pageClasses(sc *report.Scenario) map[string]int {
	counts := map[string]int{"pass": 0}
	for _, r := range sc.Results {
		counts[r.Class]++
	}
	return counts
}

// pageSeeds lists the page's seeds, in its order.
func pageSeeds(sc *report.Scenario) []uint64 {
	var seeds []uint64
	for _, r := range sc.Results {
		seeds = append(seeds, r.Seed)
	}
	return seeds
}

// TestReportLinksOnlyAFailuresOwnArtifacts: two versions of a scenario swept
// into one directory (--resume) share one failures directory per seed; the
// later version's artifacts replace the earlier's, and the page links each
// version's failing seed only to artifacts of its own run.
func TestReportLinksOnlyAFailuresOwnArtifacts(t *testing.T) {
	bug, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"))
	require.NoError(t, err)
	dir, out := t.TempDir(), t.TempDir()
	first := writeIn(t, dir, "bug.yaml", string(bug))
	code, _, errOut := simrun(t, "sweep", first, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	edited := writeIn(t, dir, "bug.yaml", strings.Replace(string(bug), "think_time: 10ms", "think_time: 11ms", 1))
	code, _, errOut = simrun(t, "sweep", edited, "--seeds", "1", "--out", out, "--resume")
	require.Equal(t, exitSafety, code, errOut)

	scs, err := sweepScenarios(out)
	require.NoError(t, err)
	require.Len(t, scs, 2)
	linked := 0
	for _, sc := range scs {
		require.Equal(t, runner.Safety, runner.Class(sc.Results[0].Class), "seed 1 fails in both versions")
		linked += len(sc.Reports)
	}
	require.Equal(t, 1, linked, "one failures/seed-1, of the later version's run")
}

// TestReplayNamesTheFileSweptNow: a sweep that continues a version first
// swept from another file, since edited, names in its replay line the file
// it read, which holds the version.
func TestReplayNamesTheFileSweptNow(t *testing.T) {
	bug, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"))
	require.NoError(t, err)
	dir, out := t.TempDir(), t.TempDir()
	a := writeIn(t, dir, "a.yaml", string(bug))
	code, _, errOut := simrun(t, "sweep", a, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	writeIn(t, dir, "a.yaml", strings.Replace(string(bug), "bugs: [ack-before-sync]", "bugs: []", 1))
	b := writeIn(t, dir, "b.yaml", string(bug))
	code, stdout, errOut := simrun(t, "sweep", b, "--seeds", "2", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	require.Contains(t, stdout, "replay      simrun run "+b+" --seed 1\n")
}
