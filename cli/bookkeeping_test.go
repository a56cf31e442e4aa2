package cli

// Sweep and merge bookkeeping: exit codes per class, the vacuous count,
// results files with hashes of the wrong length, a sweep's own range, and
// the exit code of a sweep of several files.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
	"github.com/stretchr/testify/require"
)

// TestMergeReportsVacuousSeeds pins how a vacuous seed is summarized: the
// summary has a "vacuous" count line and the process exits with the vacuous
// code (8), never a pass and never the inconclusive code, so that a CI job
// can tell "the checks judged nothing" from "a checker ran out of time".
func TestMergeReportsVacuousSeeds(t *testing.T) {
	const h = "5ce0a11000000002"
	dir := t.TempDir()
	writeResultsFile(t, filepath.Join(dir, "a"),
		resultLine("s", h, 1, runner.Pass, "00000000000000a1"),
		resultLine("s", h, 2, runner.Vacuous, "00000000000000a2"))
	code, out, errOut := simrun(t, "merge", dir)
	require.Equal(t, exitVacuous, code, out+errOut)
	require.Regexp(t, `(?m)^  vacuous +1$`, out)
	require.Regexp(t, `(?m)^  pass +1$`, out)
	require.Contains(t, out, "first fail  seed 2  vacuous")
}

// TestExitCodesAreDistinctPerClass pins the exit code contract: every
// failure class has its own code, different from a pass, bad input and an
// internal error.
func TestExitCodesAreDistinctPerClass(t *testing.T) {
	want := map[runner.Class]int{runner.Pass: exitPass, runner.Safety: exitSafety, runner.Liveness: exitLiveness,
		runner.ProtocolCrash: exitCrash, runner.Inconclusive: exitInconclusive, runner.Vacuous: exitVacuous,
		runner.Nondeterministic: exitNondeterministic}
	seen := map[int]runner.Class{}
	for _, c := range knownClasses {
		code, ok := want[c]
		require.True(t, ok, "class %s has no expected exit code in this test", c)
		require.Equal(t, code, exitCodeFor(c), "class %s", c)
		prev, dup := seen[code]
		require.False(t, dup, "classes %s and %s share exit code %d", prev, c, code)
		seen[code] = c
	}
	var names []string
	for _, c := range knownClasses {
		names = append(names, string(c))
	}
	require.Equal(t, names, report.Classes, "report.json's classes, which the report package checks without importing runner")
}

// TestShortHashesAreRefused pins that a results line whose scenario or trace
// hash is not exactly 16 hexadecimal digits (one cut short, say), or whose
// wall time is negative (a summary showed -277777h of wall), is refused as
// bad input naming file:line, not read as a result.
func TestShortHashesAreRefused(t *testing.T) {
	const h = "5ce0a11000000003"
	cases := []struct{ name, line, want string }{
		{"short trace hash", resultLine("s", h, 1, runner.Pass, "00000000000000a"), `"trace_hash" "00000000000000a" is not 16 hexadecimal digits`},
		{"short scenario hash", resultLine("s", h[:15], 1, runner.Pass, "00000000000000a1"), `"scenario_hash" "5ce0a1100000000" is not 16 hexadecimal digits`},
		{"long trace hash", resultLine("s", h, 1, runner.Pass, "00000000000000a11"), `"trace_hash" "00000000000000a11" is not 16 hexadecimal digits`},
		{"negative wall time", strings.Replace(resultLine("s", h, 1, runner.Pass, "00000000000000a1"), `"wall_time_ns":0`, `"wall_time_ns":-5`, 1),
			`"wall_time_ns" -5 is negative`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeResultsFile(t, filepath.Join(dir, "s"), c.line)
			code, out, errOut := simrun(t, "merge", dir)
			require.Equal(t, exitBadInput, code, out+errOut)
			require.Contains(t, errOut, "results.jsonl:1")
			require.Contains(t, errOut, c.want)
		})
	}
}

// TestSweepSummarizesOnlyItsOwnRange pins that a sweep's summary and exit
// code speak only of the seeds of its range (--from, --seeds): a result on
// disk for the seed right after the range (a longer earlier sweep) is
// neither counted nor taken for this sweep's failure.
func TestSweepSummarizesOnlyItsOwnRange(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	results := filepath.Join(out, "short", "results.jsonl")
	data, err := os.ReadFile(results)
	require.NoError(t, err)
	first := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)[0]
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(first), &m))
	m["seed"], m["class"], m["reason"] = 3, string(runner.Safety), "planted in the test"
	m["swept"] = map[string]any{"from": 1, "seeds": 3, "shard": 0, "of": 1} // as a sweep of --seeds 3 writes it
	extra, err := json.Marshal(m)
	require.NoError(t, err)
	f, err := os.OpenFile(results, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(append(extra, '\n'))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, stdout+errOut)
	require.Contains(t, stdout, "short: 2 seeds")
	require.Regexp(t, `(?m)^  pass +2$`, stdout)
	require.NotContains(t, stdout, "safety")
}

// TestSweepOfSeveralScenariosExitsWithTheGravestFailure pins the exit code
// of a sweep of several scenario files: that of the gravest class any file
// found (byGravity), in whatever order the files are given.
func TestSweepOfSeveralScenariosExitsWithTheGravestFailure(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	a := writeScenario(t)
	b := filepath.Join(dir, "other.yaml")
	require.NoError(t, os.WriteFile(b, []byte(strings.Replace(shortScenario, "name: short", "name: other", 1)), 0o644))
	code, stdout, errOut := simrun(t, "sweep", a, b, "--seeds", "1", "--out", out)
	require.Equal(t, exitPass, code, stdout+errOut)
	// Judge the finished seeds differently on disk: the sweep run again has
	// nothing left to run and summarizes what the files say.
	for _, judged := range []struct {
		name  string
		class runner.Class
	}{{"short", runner.Safety}, {"other", runner.Liveness}} {
		name, class := judged.name, judged.class
		path := filepath.Join(out, name, "results.jsonl")
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		line := withField(t, strings.TrimSpace(string(data)), "class", string(class))
		require.NoError(t, os.WriteFile(path, []byte(line+"\n"), 0o644))
		fakeArtifacts(t, filepath.Join(out, name), 1)
	}
	code, stdout, errOut = simrun(t, "sweep", a, b, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, stdout+errOut)
	code, stdout, errOut = simrun(t, "sweep", b, a, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, stdout+errOut)
	code, stdout, errOut = simrun(t, "merge", filepath.Join(out, "other"), filepath.Join(out, "short"))
	require.Equal(t, exitSafety, code, stdout+errOut)
}

// TestSweepExitsWithItsGravestClass: a vacuous seed before a safety
// violation does not hide it: the sweep exits 3 and offers the violation's
// replay.
func TestSweepExitsWithItsGravestClass(t *testing.T) {
	out := t.TempDir()
	scenario := writeScenario(t)
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "3", "--out", out)
	require.Equal(t, exitPass, code, stdout+errOut)
	path := filepath.Join(out, "short", "results.jsonl")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	classes := map[string]runner.Class{"1": runner.Vacuous, "2": runner.Safety, "3": runner.Safety}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct{ Seed uint64 }
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		lines = append(lines, withField(t, line, "class", string(classes[strconv.FormatUint(r.Seed, 10)])))
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	for seed := range uint64(3) {
		fakeArtifacts(t, filepath.Join(out, "short"), seed+1)
	}
	code, stdout, errOut = simrun(t, "sweep", scenario, "--seeds", "3", "--out", out)
	require.Equal(t, exitSafety, code, stdout+errOut)
	require.Contains(t, stdout, "first fail  seed 2  safety")
	require.Contains(t, stdout, "--seed 2")
}

// fakeArtifacts gives a seed whose class a test rewrote on disk the page a
// failure has, so that the sweep takes the seed for done.
func fakeArtifacts(t *testing.T, dir string, seed uint64) {
	t.Helper()
	failure := failureDir(dir, seed)
	require.NoError(t, os.MkdirAll(failure, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(failure, "report.html"), nil, 0o644))
	data, err := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r runner.Report
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		if r.Seed == seed { // the seed's own run, as its trace hash says
			meta := map[string]any{"scenario": r.Scenario, "protocol": "raft", "class": "safety", "trace_hash": r.Hash}
			text, err := json.Marshal(meta)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(failure, "report.json"), text, 0o644))
		}
	}
}

// TestSweepRangeEndsBeforeTheLastSeed: a sweep's range [from, from+seeds)
// must end at a number, so its last seed is 2^64-2; a range past it is bad
// input that says so and how to run the last seed, not a range that wraps
// round to seed 0 (which the next sweep of the same directory would then
// refuse as results outside their range).
func TestSweepRangeEndsBeforeTheLastSeed(t *testing.T) {
	scenario := filepath.Join("..", "scenarios", "raft-calm.yaml")
	for _, from := range []string{"18446744073709551615", "18446744073709551614"} {
		code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--from", from, "--out", t.TempDir())
		require.Equal(t, exitBadInput, code, errOut)
		require.Contains(t, errOut, "--from "+from+" with --seeds 2: a sweep's last seed is 18446744073709551614 at the most (simrun run --seed runs any one seed)")
	}
}
