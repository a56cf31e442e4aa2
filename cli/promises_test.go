package cli

// The README's promises about what a user may do to a sweep and its files:
// edit or break a scenario mid-sweep, hand-edit results.jsonl, name one
// results file two ways, delete artifacts and resume, fill the disk a run
// writes to. Each test failed before its mend.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simrun/simrun/registry"
	"github.com/stretchr/testify/require"
)

// TestDuplicateKeyIsRefusedWhateverItsSpelling: a results line with a key
// given twice is refused (README, "Sweep many seeds"), however the key is
// spelt: a space before its colon or an escaped letter used to pass, and
// the decoder kept the last value, so a hand-edited line turned a pass into
// a safety failure without a word.
func TestDuplicateKeyIsRefusedWhateverItsSpelling(t *testing.T) {
	_, out, results := sweptOneSeed(t)
	good, err := os.ReadFile(results)
	require.NoError(t, err)
	line := strings.TrimSpace(string(good))
	require.Contains(t, line, `"class":"pass"`)
	cases := map[string]string{
		// JSON allows whitespace between a key and its colon.
		"space before the colon": strings.TrimSuffix(strings.Replace(line, `"class":"pass"`, `"class" :"pass"`, 1), "}") + `,"class":"safety"}`,
		// \u0061 is "a": the decoder reads the key as "class".
		"escaped letter": strings.TrimSuffix(line, "}") + `,"cl\u0061ss":"safety"}`,
		// Not a required key, but the README refuses any key given twice;
		// "build" decides which lines merge counts.
		"build twice": strings.Replace(line, `"build":`, `"build":"other",`+`"build":`, 1),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			writeResultsFile(t, filepath.Dir(results), bad)
			code, stdout, errOut := simrun(t, "merge", out)
			require.Equal(t, exitBadInput, code, "a duplicated key was taken: %s", stdout+errOut)
			require.Contains(t, errOut, "given twice")
		})
	}
}

// TestMergeOfOneFileNamedTwiceIsNotADeterminismCheck: one results file
// named two ways (a relative and an absolute path) is read once. Read
// twice, it counted as "2 files" and every seed as run twice with hashes
// that agree, though nothing ran twice.
func TestMergeOfOneFileNamedTwiceIsNotADeterminismCheck(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "3", "--check-determinism=0", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	abs, err := filepath.Abs(out)
	require.NoError(t, err)
	rel, err := filepath.Rel(mustGetwd(t), abs)
	require.NoError(t, err)

	code, stdout, errOut := simrun(t, "merge", abs, rel)
	require.Equal(t, exitPass, code, errOut)
	require.NotContains(t, stdout, "run twice", "one file read twice is not a second run:\n%s", stdout)
	require.NotContains(t, stdout, "2 files")

	// The same through report, which reads results as merge does.
	code, stdout, errOut = simrun(t, "merge", filepath.Join(abs, "short", "results.jsonl"), "./"+filepath.Join(rel, "short", "results.jsonl"))
	require.Equal(t, exitPass, code, errOut)
	require.NotContains(t, stdout, "run twice", stdout)
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return wd
}

// TestLaterScenarioErrorKeepsAnEarlierFailuresCode: a failure found in one
// scenario keeps its exit code when a later scenario of the same sweep
// cannot be swept (a bad results file in its --out): it used to exit 2.
func TestLaterScenarioErrorKeepsAnEarlierFailuresCode(t *testing.T) {
	out := t.TempDir()
	failing := "../scenarios/bugs/raft-bug-commit-old-term.yaml" // seed 4 fails (safety)
	second := writeScenario(t)
	writeResultsFile(t, filepath.Join(out, "short"), `{"seed":1}`)

	code, stdout, errOut := simrun(t, "sweep", failing, second, "--seeds", "5", "--parallel", "1", "--out", out)
	require.Contains(t, stdout, "first fail", "the first scenario fails: %s", stdout)
	require.Equal(t, exitSafety, code, "the safety violation found must keep its exit code:\n%s", errOut)
}

// TestUnfinishedCountsEachRange: merge and report count the seeds without a
// result range by range (tally.unfinished). A results file of one-seed
// sweeps (a CI job replaying chosen seeds into one --out) has as many
// ranges as results: counted by scanning every result once per range, as
// before, 20,000 of them took about 10 s to merge; BenchmarkUnfinished
// measures it.
func TestUnfinishedCountsEachRange(t *testing.T) {
	tl := oneSeedRanges(2000)
	require.Equal(t, "", tl.unfinished(), "every range has its seed")
	delete(tl.bySeed, 7)
	delete(tl.bySeed, 3999)
	require.Contains(t, tl.unfinished(), "2 seeds of the range swept have no result (seeds 7, 3999)")
}

func BenchmarkUnfinished(b *testing.B) {
	tl := oneSeedRanges(20000)
	for b.Loop() {
		_ = tl.unfinished()
	}
}

// oneSeedRanges is a tally of n one-seed sweeps with a gap between every
// two, each with its result.
func oneSeedRanges(n uint64) *tally {
	tl := newTally("short", "0123456789abcdef")
	for i := range n {
		seed := 2*i + 1
		tl.bySeed[seed] = entry{seed: seed, class: "pass"}
		tl.ranges[sweptRange{From: seed, Seeds: 1, Shard: 0, Of: 1}] = true
	}
	return tl
}

// TestSweepRunsTheScenarioItHashed: a sweep of several files reads and
// fingerprints them all before the first seed, and runs each as it read it.
// Each used to be read again when its turn came, minutes or hours later: a
// file edited meanwhile ran its edited version under the first version's
// hash, and a merge with a clean sweep of that version then called every
// seed nondeterministic (30 of 30, by hand).
func TestSweepRunsTheScenarioItHashed(t *testing.T) {
	out := t.TempDir()
	code, stdout, errOut := sweepEditedMidway(t, out, strings.Replace(shortScenario, "drop: 0.02", "drop: 0.03", 1))
	if code == exitBadInput || code == exitInternal {
		return // refusing is fine: what must not happen is a mislabelled result
	}
	require.Contains(t, stdout, "sweep       short:", stdout+errOut)
	swept := resultsIn(t, filepath.Join(out, "short", "results.jsonl"))

	// The version the results are labelled with, swept on its own.
	clean := t.TempDir()
	original := writeIn(t, t.TempDir(), "short.yaml", shortScenario)
	code, _, errOut = simrun(t, "sweep", original, "--seeds", "20", "--out", clean)
	require.Equal(t, exitPass, code, errOut)
	want := resultsIn(t, filepath.Join(clean, "short", "results.jsonl"))
	for seed := uint64(1); seed <= 20; seed++ {
		require.Equal(t, want[seed].ScenarioHash, swept[seed].ScenarioHash, "the same version, by its hash")
		require.Equal(t, want[seed].Hash, swept[seed].Hash,
			"seed %d is stored under scenario hash %s but ran another scenario", seed, swept[seed].ScenarioHash)
	}
}

// TestScenarioUnreadableMidSweepIsOneLineAndKeepsTheVerdict: a scenario that
// cannot be loaded stops its sweep with one error, and an earlier scenario's
// failure keeps its code. It used to give one error per seed (20,004 lines
// at --seeds 20000, growing without bound), exit 1, and lose the code.
func TestScenarioUnreadableMidSweepIsOneLineAndKeepsTheVerdict(t *testing.T) {
	code, stdout, errOut := sweepEditedMidway(t, t.TempDir(), "garbage: [\n")
	require.Contains(t, stdout, "first fail", "the first scenario fails")
	require.LessOrEqual(t, strings.Count(errOut, "\nseed "), 1, "one error per seed:\n%.600s", errOut)
	require.Equal(t, exitSafety, code, "the first scenario's safety violation must keep its code")
}

// TestResumeConverges: the same command run again reaches "nothing to run"
// and appends nothing. A failing seed whose artifacts were deleted, with no
// room left under --max-artifacts, used to run again at every resume and
// append a line each time, for ever.
func TestResumeConverges(t *testing.T) {
	out := t.TempDir()
	scenario := "../scenarios/bugs/raft-bug-commit-old-term.yaml"
	args := []string{"sweep", scenario, "--seeds", "20", "--parallel", "1", "--out", out}
	code, _, errOut := simrun(t, append(args, "--max-artifacts", "2")...)
	require.Equal(t, exitSafety, code, errOut)
	failures, err := filepath.Glob(filepath.Join(out, "raft-bug-commit-old-term", "failures", "seed-*"))
	require.NoError(t, err)
	require.Len(t, failures, 2)
	require.NoError(t, os.RemoveAll(failures[0]))

	results := filepath.Join(out, "raft-bug-commit-old-term", "results.jsonl")
	lines := func() int {
		data, err := os.ReadFile(results)
		require.NoError(t, err)
		return strings.Count(string(data), "\n")
	}
	for range 2 {
		code, _, errOut = simrun(t, append(args, "--max-artifacts", "1")...)
		require.Equal(t, exitSafety, code, errOut)
	}
	before := lines()
	code, stdout, errOut := simrun(t, append(args, "--max-artifacts", "1")...)
	require.Equal(t, exitSafety, code, errOut)
	require.Equal(t, before, lines(), "the same command appended again:\n%s", stdout)
	require.Contains(t, stdout+errOut, "nothing to run")
}

// TestFullDiskDoesNotHideARunsVerdict: a run whose --history or --trace
// cannot be written to the end (a full disk; /dev/full here) prints its
// verdict and keeps its exit code, with a warning (README, "Reproduce a
// failure"). It used to print nothing and exit 2. Linux only (/dev/full).
func TestFullDiskDoesNotHideARunsVerdict(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	for _, flag := range []string{"--history", "--trace"} {
		t.Run(flag, func(t *testing.T) {
			code, stdout, errOut := simrun(t, "run", "../scenarios/bugs/raft-bug-commit-old-term.yaml", "--seed", "4",
				"--out", t.TempDir(), flag, "/dev/full")
			require.Contains(t, stdout, "verdict     SAFETY", "the verdict is hidden: stderr %q", errOut)
			require.Equal(t, exitSafety, code, errOut)
		})
	}
}

// TestNondeterministicSeedGetsNoArtifacts: a seed a recheck finds
// nondeterministic gets no artifacts (README, "Sweep many seeds": its replay
// line is the way to look at it). They used to be written before the
// recheck, and kept, spending the --max-artifacts budget on a page of the
// first run.
func TestNondeterministicSeedGetsNoArtifacts(t *testing.T) {
	data, err := os.ReadFile("../scenarios/bugs/raft-bug-commit-old-term.yaml")
	require.NoError(t, err)
	scenario := filepath.Join(t.TempDir(), "flaky.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(strings.Replace(string(data), "protocol: raft", "protocol: flaky", 1)), 0o644))
	out := t.TempDir()
	var stdout, errOut bytes.Buffer
	program := Program{Name: "simrun", Protocols: append(registry.Shipped(), flakyProtocol(t))}
	program.Execute([]string{"sweep", scenario, "--seeds", "10", "--parallel", "1", "--check-determinism=1", "--out", out}, &stdout, &errOut)
	results := resultsIn(t, filepath.Join(out, "raft-bug-commit-old-term", "results.jsonl"))
	nondet := 0
	for seed, r := range results {
		if r.Class != "nondeterministic" {
			continue
		}
		nondet++
		_, err := os.Stat(failureDir(filepath.Join(out, "raft-bug-commit-old-term"), seed))
		require.True(t, os.IsNotExist(err), "nondeterministic seed %d has artifacts", seed)
	}
	require.Positive(t, nondet, stdout.String()+errOut.String())
}

// sweepEditedMidway sweeps a bug scenario, then short.yaml, into out, and
// rewrites short.yaml as edited while the first is swept (a git checkout,
// an editor); it returns how the sweep ended.
func sweepEditedMidway(t *testing.T, out, edited string) (code int, stdout, errOut string) {
	t.Helper()
	dir := t.TempDir()
	second := writeIn(t, dir, "short.yaml", shortScenario)
	cancel, wait := startSweep(t, "sweep", "../scenarios/bugs/raft-bug-commit-old-term.yaml", second,
		"--seeds", "300", "--parallel", "1", "--out", out)
	defer cancel()
	waitForLines(t, filepath.Join(out, "raft-bug-commit-old-term", "results.jsonl"), 1)
	writeIn(t, dir, "short.yaml", edited)
	return wait()
}
