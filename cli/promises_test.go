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

// TestDuplicateKeyIsRefusedWhateverItsSpelling: README ("Sweep many
// seeds"): "a key given twice, a null required key, or a key that differs
// from a result's in case only (which a JSON decoder would quietly take) is
// refused". checkKeys (cli/results.go) counts the bytes `"class":` only, so
// the same key written with a space before its colon, or with an escaped
// letter, passes, and encoding/json keeps the last value: a hand-edited
// line turns a pass into a safety failure (or back) without a word.
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

// TestMergeOfOneFileNamedTwiceIsNotADeterminismCheck: merge dedups its
// arguments by path string only (resultFiles, cli/merge.go:176), so the same
// results file reached by a relative and an absolute path (or a symlink, or
// "./dir/results.jsonl") is read twice: every seed is "run twice and their
// trace hashes compared: each agrees" and "results 2 files", though nothing
// ran twice. README: the determinism line counts seeds that *ran* twice.
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

// TestLaterScenarioErrorKeepsAnEarlierFailuresCode: README (exit
// codes): a failure's code wins; "A sweep ... exits with the code of the
// gravest class among its seeds". sweepAll (cli/sweep.go:193-196) returns
// the error of a later scenario's sweepOne as it is, so a sweep of two
// scenarios whose first finds a safety violation exits 2 when the second
// one's results file has a bad line (or its directory is locked by another
// sweep): CI reading the exit code never learns of the violation.
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

// TestSweepRunsTheScenarioItHashed: sweepAll reads and fingerprints
// every scenario file before the first seed (checkScenarios), but each
// worker reads the file again when its first seed comes (sweepOne's
// SweepOptions.Load = loadScenario(path), cli/sweep.go:335). A scenario
// swept after another one is read again minutes or hours later: if the file
// was edited meanwhile, its seeds run the edited scenario and are stored
// under the hash of the version read first. A later merge with a clean sweep
// of that version then calls every seed "nondeterministic" (seen by hand: 30
// of 30), and a resumed sweep of the original takes them for done.
func TestSweepRunsTheScenarioItHashed(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	first := "../scenarios/bugs/raft-bug-commit-old-term.yaml"
	second := writeIn(t, dir, "short.yaml", shortScenario)
	cancel, wait := startSweep(t, "sweep", first, second, "--seeds", "300", "--parallel", "1", "--out", out)
	defer cancel()
	waitForLines(t, filepath.Join(out, "raft-bug-commit-old-term", "results.jsonl"), 1)
	// Edited while the first scenario is swept (a git checkout, an editor).
	writeIn(t, dir, "short.yaml", strings.Replace(shortScenario, "drop: 0.02", "drop: 0.03", 1))
	code, stdout, errOut := wait()
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

// TestScenarioUnreadableMidSweepIsOneLineAndKeepsTheVerdict: when a
// later scenario's file no longer parses by the time its sweep starts (see
// above), every seed's Load fails; record (cli/sweep.go:509-511) joins one
// error per seed and does not stop dispatching, and sweepOne returns them
// all as an internal error. Seen by hand with --seeds 20000: a 20,004-line,
// 1.5 MB message on stderr, exit 1, and the first scenario's 8 safety
// failures lost from the exit code. With --seeds 1e9 the joined errors grow
// without bound. README: bad input is a one-line error; a failure's code wins.
func TestScenarioUnreadableMidSweepIsOneLineAndKeepsTheVerdict(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	first := "../scenarios/bugs/raft-bug-commit-old-term.yaml"
	second := writeIn(t, dir, "short.yaml", shortScenario)
	cancel, wait := startSweep(t, "sweep", first, second, "--seeds", "300", "--parallel", "1", "--out", out)
	defer cancel()
	waitForLines(t, filepath.Join(out, "raft-bug-commit-old-term", "results.jsonl"), 1)
	writeIn(t, dir, "short.yaml", "garbage: [\n")
	code, stdout, errOut := wait()
	require.Contains(t, stdout, "first fail", "the first scenario fails")
	require.LessOrEqual(t, strings.Count(errOut, "\nseed "), 1, "one error per seed:\n%.600s", errOut)
	require.Equal(t, exitSafety, code, "the first scenario's safety violation must keep its code")
}

// TestResumeConverges: the same command run again must reach "nothing
// to run" and stop appending. A failing seed whose artifacts are gone (the
// user deleted failures/seed-N to save space) while --max-artifacts leaves
// no room is run again by every resume (newSweepRun: lacksArtifacts ->
// rewrite, cli/sweep.go:459), gets no artifacts (budget full, result line
// no_artifacts:true), and tally.combine keeps the earlier line's
// no_artifacts:false (cli/tally.go:161-164), so the next resume finds it
// lacking again: one more duplicate results line per run, forever.
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

// TestFullDiskDoesNotHideARunsVerdict: README ("Reproduce a failure"):
// "the verdict is never hidden behind an I/O error". A failing run whose
// --history (or --trace) file cannot be written to the end (a full disk;
// /dev/full here) prints no summary at all and exits 2: runOne returns
// badInput from writeHistory before printSummary (cli/run.go:157-159), and
// a trace write error comes back from runner.Run as an error
// (cli/run.go:152-155). Linux only (/dev/full).
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

// TestNondeterministicSeedGetsNoArtifacts: README ("Sweep many
// seeds"): each failing seed gets its artifacts under failures/seed-<N>/
// "(but a nondeterministic one: its two runs differ, and its replay line is
// the way to look at it)". runSeed (runner/sweep.go:218-220) writes a failing
// run's artifacts (OnFailure) before the sweep worker rechecks it
// (runner/sweep.go:154-156); a recheck that finds the seed nondeterministic
// leaves the first run's artifacts, and their page, in place (and spends the
// --max-artifacts budget on them).
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
