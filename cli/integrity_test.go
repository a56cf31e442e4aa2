package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/internal/jsonl"
	"github.com/simrun/simrun/internal/plural"
	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/sim"
	"github.com/stretchr/testify/require"
)

// resultLine is one complete results.jsonl line, as a sweep writes it.
func resultLine(scenario, scenarioHash string, seed uint64, class runner.Class, trace string) string {
	r := result{Report: runner.Report{Scenario: scenario, File: scenario + ".yaml", Seed: seed,
		ScenarioHash: scenarioHash, Class: class, Hash: trace}}
	if class == runner.Inconclusive {
		r.Reason = "linearizability unknown: Porcupine gave up"
		r.Checks = []runner.CheckResult{{Name: "linearizable", Verdict: "unknown"}}
	}
	data, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// writeResultsFile writes lines as dir/results.jsonl.
func writeResultsFile(t *testing.T, dir string, lines ...string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	body := strings.Join(lines, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "results.jsonl"), []byte(body), 0o644))
}

func writeEdited(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "short.yaml")
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(shortScenario, "drop: 0.02", "drop: 0.03", 1)), 0o644))
	return p
}

// TestMergeKeepsScenarioVersionsApart: shards of two versions of one
// scenario overlap on every seed with different trace hashes; merge
// summarizes each version on its own and says so, instead of calling the
// mix nondeterministic.
func TestMergeKeepsScenarioVersionsApart(t *testing.T) {
	out := t.TempDir()
	a, b := filepath.Join(out, "a"), filepath.Join(out, "b")
	code, _, errOut := simrun(t, "sweep", writeScenario(t), "--seeds", "3", "--out", a)
	require.Equal(t, exitPass, code, errOut)
	code, _, errOut = simrun(t, "sweep", writeEdited(t), "--seeds", "3", "--out", b)
	require.Equal(t, exitPass, code, errOut)

	code, merged, errOut := simrun(t, "merge", a, b)
	require.Equal(t, exitPass, code, merged+errOut)
	require.Regexp(t, `(?m)^scenario short: 2 versions \(hash [0-9a-f]{16}, [0-9a-f]{16}\): summarized apart$`, merged)
	require.Equal(t, 2, strings.Count(merged, "sweep       short: 3 seeds (scenario hash "), merged)
	require.NotContains(t, merged, "nondeterministic")
}

// TestMergePrefersADefiniteVerdict: one seed judged pass on one machine and
// inconclusive (Porcupine's budget) on another is a pass, whichever file
// sorts last; two different definite verdicts of one trace are a
// determinism failure.
func TestMergePrefersADefiniteVerdict(t *testing.T) {
	const h = "5ce0a11000000001"
	pass := resultLine("s", h, 4, runner.Pass, "00000000000000aa")
	inconclusive := resultLine("s", h, 4, runner.Inconclusive, "00000000000000aa")
	for name, order := range map[string][2]string{"pass first": {pass, inconclusive}, "pass last": {inconclusive, pass}} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeResultsFile(t, filepath.Join(dir, "a"), order[0])
			writeResultsFile(t, filepath.Join(dir, "b"), order[1])
			code, out, errOut := simrun(t, "merge", dir)
			require.Equal(t, exitPass, code, out+errOut)
			require.Regexp(t, `pass +1\n`, out)
		})
	}
	dir := t.TempDir()
	writeResultsFile(t, filepath.Join(dir, "a"), pass)
	writeResultsFile(t, filepath.Join(dir, "b"), resultLine("s", h, 4, runner.Safety, "00000000000000aa"))
	code, out, _ := simrun(t, "merge", dir)
	require.Equal(t, exitNondeterministic, code, out)
	require.Contains(t, out, "judged pass and safety")
}

// TestRerunRetriesInconclusiveSeeds: seeds whose linearizability check ran
// out of time run again when the same command runs again, with the current
// --lin-timeout, and the summary says how many were retried; their replay
// lines carry the budget that gave the verdict. (The workload's histories
// are decided without a search, within any budget, so the test turns a
// sweep's results into what a search out of time leaves.)
func TestRerunRetriesInconclusiveSeeds(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	sweep := []string{"sweep", scenario, "--seeds", "3", "--parallel", "1", "--out", out}
	code, stdout, errOut := simrun(t, sweep...)
	require.Equal(t, exitPass, code, stdout+errOut)
	outOfTime(t, filepath.Join(out, "short", "results.jsonl"))
	stale := filepath.Join(out, "short", "failures", "seed-1")
	require.NoError(t, os.MkdirAll(stale, 0o755))
	code, merged, errOut := simrun(t, "merge", out)
	require.Equal(t, exitInconclusive, code, merged+errOut)
	require.Regexp(t, `inconclusive +3\n`, merged)
	require.Contains(t, merged, "--lin-timeout 1ns\n", "the replay line carries the budget that gave the verdict")

	code, stdout, errOut = simrun(t, sweep...)
	require.Equal(t, exitPass, code, stdout+errOut)
	require.Contains(t, stdout, "3 inconclusive seeds retried with --lin-timeout 40s: 3 reached a verdict")
	require.Regexp(t, `pass +3\n`, stdout)
	require.NotContains(t, stdout, "inconclusive  ")
	require.NoDirExists(t, stale, "stale artifacts of a seed that now passes")

	code, stdout, errOut = simrun(t, sweep...)
	require.Equal(t, exitPass, code, stdout+errOut)
	require.NotContains(t, stdout, "retried", "a definite verdict is final")
	code, merged, errOut = simrun(t, "merge", out)
	require.Equal(t, exitPass, code, merged+errOut)
	require.Regexp(t, `pass +3\n`, merged)
}

// outOfTime rewrites each result of a results file as a 1ns budget for
// Porcupine's search would have left it: inconclusive, the linearizable
// check unknown.
func outOfTime(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r result
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		r.Class, r.Reason, r.LinTimeout = runner.Inconclusive, "linearizability unknown: Porcupine gave up", time.Nanosecond
		for i := range r.Checks {
			if r.Checks[i].Name == checkers.NameLinearizable {
				r.Checks[i].Verdict = checkers.Unknown.String()
			}
		}
		out, err := json.Marshal(r)
		require.NoError(t, err)
		lines = append(lines, string(out))
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

// TestReplayLinesCarryVerdictFlags: the replay line a sweep's summary and
// merge print carries --swarm and a non-default --lin-timeout, read from the
// results themselves (merge runs elsewhere, without the sweep's flags).
func TestReplayLinesCarryVerdictFlags(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "short.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(shortScenario+"max_events: 1000\n"), 0o644)) // every seed inconclusive
	out := t.TempDir()
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out, "--swarm", "crash", "--lin-timeout", "1ns")
	require.Equal(t, exitInconclusive, code, stdout+errOut)
	want := "replay      simrun run " + scenario + " --seed 1 --swarm crash --lin-timeout 1ns\n"
	require.Contains(t, stdout, want)
	code, merged, _ := simrun(t, "merge", out)
	require.Equal(t, exitInconclusive, code)
	require.Contains(t, merged, want)

	// A run's two replay lines, the scenario's and the saved failure's
	// scenario.yaml, both carry it.
	dir := t.TempDir()
	code, stdout, errOut = simrun(t, "run", scenario, "--seed", "1", "--lin-timeout", "7s", "--out", dir)
	require.Equal(t, exitInconclusive, code, stdout+errOut)
	require.Contains(t, stdout, "replay      simrun run "+scenario+" --seed 1 --lin-timeout 7s\n")
	require.Regexp(t, `\n            simrun run \S+scenario\.yaml --lin-timeout 7s\n`, stdout)
}

// startSweep runs a sweep in the background under a context the test
// cancels, like Ctrl-C.
func startSweep(t *testing.T, args ...string) (cancel func(), wait func() (int, string, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer
	var code int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		code = Program{Name: "simrun"}.execute(ctx, args, &out, &errOut)
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return cancel, func() (int, string, string) { wg.Wait(); return code, out.String(), errOut.String() }
}

// waitForLines waits until the results file holds n complete lines.
func waitForLines(t *testing.T, path string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(path)
		return bytes.Count(data, []byte("\n")) >= n
	}, 60*time.Second, 10*time.Millisecond)
}

// TestHugeSeedCountStartsAndStopsAtOnce: --seeds near the top of the range
// neither allocates the range nor delays the first seed, and cancelling
// stops the sweep promptly with every finished result kept.
func TestHugeSeedCountStartsAndStopsAtOnce(t *testing.T) {
	out := t.TempDir()
	results := filepath.Join(out, "short", "results.jsonl")
	cancel, wait := startSweep(t, "sweep", writeScenario(t), "--seeds", "99999999999", "--parallel", "1", "--out", out)
	waitForLines(t, results, 2)
	cancel()
	stopped := make(chan struct{})
	var code int
	var stdout string
	go func() { code, stdout, _ = wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second): // one running seed finishes, nothing more
		t.Fatal("the sweep did not stop after cancel")
	}
	require.Equal(t, exitInternal, code, stdout)
	kept := resultsIn(t, results)
	require.Contains(t, stdout, "interrupted: "+plural.Of(len(kept), "result")+" kept")
	for seed := range kept {
		require.LessOrEqual(t, seed, uint64(len(kept)), "seeds run in order, from the first")
	}
}

// TestSecondSweepOnOneOutIsRefused: while a sweep runs, another one on the
// same --out fails at once, exit 2, naming the directory; afterwards the
// directory is free again.
func TestSecondSweepOnOneOutIsRefused(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	cancel, wait := startSweep(t, "sweep", scenario, "--seeds", "1000000", "--parallel", "1", "--out", out)
	waitForLines(t, filepath.Join(out, "short", "results.jsonl"), 1)

	start := time.Now()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "5", "--out", out)
	require.Equal(t, exitBadInput, code, errOut)
	require.Less(t, time.Since(start), 5*time.Second, "refused at once, not after waiting")
	require.Contains(t, errOut, filepath.Join(out, "short")+" is in use by another sweep (pid ")
	require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)

	cancel()
	wait()
	code, _, errOut = simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitPass, code, errOut)
}

// sweptOneSeed sweeps seed 1 of the short scenario and returns the scenario
// file, the --out directory and the results file.
func sweptOneSeed(t *testing.T) (scenario, out, results string) {
	t.Helper()
	scenario, out = writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	return scenario, out, filepath.Join(out, "short", "results.jsonl")
}

// TestIncompleteResultLinesAreRefused: a line that is not a complete result
// is an error naming file:line and the repair, for sweep (with or without
// --resume) and merge; its seed is never taken for done.
func TestIncompleteResultLinesAreRefused(t *testing.T) {
	scenario, out, results := sweptOneSeed(t)
	good, err := os.ReadFile(results)
	require.NoError(t, err)
	var first result
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(good), &first))
	line := func(edit func(m map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal(bytes.TrimSpace(good), &m))
		m["seed"] = 2
		edit(m)
		data, err := json.Marshal(m)
		require.NoError(t, err)
		return string(data)
	}
	cases := map[string]struct{ line, want string }{
		"only a seed":          {`{"seed":2}`, `no "scenario", "scenario_hash", "class", "trace_hash"`},
		"no scenario hash":     {line(func(m map[string]any) { delete(m, "scenario_hash") }), `no "scenario_hash"`},
		"empty scenario hash":  {line(func(m map[string]any) { m["scenario_hash"] = "" }), `empty "scenario_hash"`},
		"no class":             {line(func(m map[string]any) { delete(m, "class") }), `no "class"`},
		"unknown class":        {line(func(m map[string]any) { m["class"] = "fine" }), `unknown class "fine"`},
		"no trace hash":        {line(func(m map[string]any) { delete(m, "trace_hash") }), `no "trace_hash"`},
		"empty trace hash":     {line(func(m map[string]any) { m["trace_hash"] = "" }), `empty "trace_hash"`},
		"not JSON":             {`seed 2 passed`, "not JSON: invalid character 's' looking for beginning of value"},
		"a seed of wrong type": {line(func(m map[string]any) { m["seed"] = "two" }), "seed: want a whole number, 0 or more, got string"},
		"not a trace hash":     {line(func(m map[string]any) { m["trace_hash"] = "zz" }), `"trace_hash" "zz" is not 16 hexadecimal digits`},
		"a line of a megabyte": {strings.Repeat("x", jsonl.MaxLine), "longer than 1048576 bytes"},
		"an empty line":        {"  ", "an empty line"},
		"a range of no seeds": {line(func(m map[string]any) { m["swept"] = map[string]any{"from": 1, "seeds": 0, "shard": 0, "of": 1} }),
			`"swept" (from 1, 0 seeds, shard 0 of 1) is no sweep's range`},
		"a seed outside its range": {line(func(m map[string]any) { m["swept"] = map[string]any{"from": 1, "seeds": 1, "shard": 0, "of": 1} }),
			"seed 2 is outside the range it was swept in (from 1, 1 seeds)"},
		"a range past the last seed": {line(func(m map[string]any) {
			m["swept"] = map[string]any{"from": uint64(18446744073709551000), "seeds": 10000, "shard": 0, "of": 1}
		}), `"swept" (from 18446744073709551000, 10000 seeds, shard 0 of 1) is no sweep's range`},
		"a shard past its count": {line(func(m map[string]any) { m["swept"] = map[string]any{"from": 1, "seeds": 4, "shard": 1, "of": 1} }),
			`"swept" (from 1, 4 seeds, shard 1 of 1) is no sweep's range`},
		"a negative simulated time": {line(func(m map[string]any) { m["sim_time_ns"] = -1 }), `"sim_time_ns" -1 is negative`},
		"a negative wall time":      {line(func(m map[string]any) { m["wall_time_ns"] = -1 }), `"wall_time_ns" -1 is negative`},
		"a negative lin timeout":    {line(func(m map[string]any) { m["lin_timeout_ns"] = -1 }), `"lin_timeout_ns" -1 is negative`},
		"a null seed":               {line(func(m map[string]any) { m["seed"] = nil }), `null "seed"`},
		"a class twice":             {strings.Replace(line(func(map[string]any) {}), "{", `{"class":"safety",`, 1), `"class" given twice`},
		"a key in capitals":         {strings.Replace(line(func(map[string]any) {}), "{", `{"Scenario":"other",`, 1), `key "Scenario": the key is "scenario"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "short", "results.jsonl")
			writeResultsFile(t, filepath.Dir(file), strings.TrimSpace(string(good)), c.line)
			for _, args := range [][]string{
				{"sweep", scenario, "--seeds", "2", "--out", dir},
				{"sweep", scenario, "--seeds", "2", "--out", dir, "--resume"},
				{"merge", dir},
			} {
				code, stdout, errOut := simrun(t, args...)
				require.Equal(t, exitBadInput, code, "%v: %s", args, stdout+errOut)
				require.Regexp(t, regexp.QuoteMeta(file)+`:2:\d+: not a complete sweep result: `+regexp.QuoteMeta(c.want), errOut)
				require.Contains(t, errOut, "delete this line, or the whole file, and run the same command again")
				require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
			}
		})
	}
	// Repaired as told, the seed runs.
	writeResultsFile(t, filepath.Dir(results), strings.TrimSpace(string(good)))
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Regexp(t, `pass +2\n`, stdout)
	require.Contains(t, resultsIn(t, results), uint64(2))
	require.Equal(t, first.Hash, resultsIn(t, results)[1].Hash)
}

// TestResultLineErrorsNameTheColumn: an error about one field of a results
// line names the column where the field stands; a byte order mark before
// the first line is an editor's, not an error.
func TestResultLineErrorsNameTheColumn(t *testing.T) {
	scenario, out, results := sweptOneSeed(t)
	good, err := os.ReadFile(results)
	require.NoError(t, err)
	line := strings.TrimSpace(string(good))
	bad := withField(t, line, "class", "fine")
	col := strings.Index(bad, `"class":`) + 1
	writeResultsFile(t, filepath.Dir(results), line, bad)
	code, _, errOut := simrun(t, "merge", out)
	require.Equal(t, exitBadInput, code)
	require.Contains(t, errOut, fmt.Sprintf("results.jsonl:2:%d: not a complete sweep result: unknown class \"fine\"", col))

	writeResultsFile(t, filepath.Dir(results), "\ufeff"+line)
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Regexp(t, `pass +1\n`, stdout)
}

// TestALastLineNoWriteLeavesIsRefused: a last line without its newline is
// left out as a write cut short only if it begins a JSON object; bytes of
// another kind there are refused, not silently deleted.
func TestALastLineNoWriteLeavesIsRefused(t *testing.T) {
	scenario, out, results := sweptOneSeed(t)
	f, err := os.OpenFile(results, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("seed 2 passed")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for _, args := range [][]string{{"sweep", scenario, "--seeds", "2", "--out", out}, {"merge", out}} {
		code, _, errOut := simrun(t, args...)
		require.Equal(t, exitBadInput, code, errOut)
		require.Contains(t, errOut, results+":2:1: not a complete sweep result: a last line without its newline that is not the start of a JSON object")
	}
	data, err := os.ReadFile(results)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(data), "seed 2 passed"), "nothing was deleted")
}

// TestOverlongCutLineIsRefused: a last line without its newline is taken for
// a result cut short and left out, but only while it could be one: a longer
// one is refused as soon as it passes the bound, without reading it whole.
func TestOverlongCutLineIsRefused(t *testing.T) {
	scenario, out, results := sweptOneSeed(t)
	f, err := os.OpenFile(results, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(bytes.Repeat([]byte("x"), 8*jsonl.MaxLine))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitBadInput, code, errOut)
	require.Equal(t, "simrun: "+results+":2:1048577: not a complete sweep result: longer than 1048576 bytes; "+repairHint+"\n", errOut)
}

// TestMergeOfAnotherKindOfFileSaysSo: merge given a file whose first line
// is no result (a scenario, a failure's report.json) says it is not a
// results file, without advice to delete it; a results.jsonl whose first
// line is broken is still told to drop that line.
func TestMergeOfAnotherKindOfFileSaysSo(t *testing.T) {
	scenario := writeScenario(t)
	code, _, errOut := simrun(t, "merge", scenario)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: "+scenario+":1:2: not a sweep's results file: line 1 is not a result (not JSON: invalid character "+
		"'a' in literal null (expecting 'u')); give the results.jsonl files a sweep wrote, or directories holding them\n", errOut)

	broken := filepath.Join(t.TempDir(), "results.jsonl")
	require.NoError(t, os.WriteFile(broken, []byte("{\n"), 0o644))
	code, _, errOut = simrun(t, "merge", broken)
	require.Equal(t, exitBadInput, code)
	require.True(t, strings.HasSuffix(errOut, repairHint+"\n"), errOut)
}

// TestSwarmIsPartOfTheVersion: results swept with --swarm are not continued
// without it, and the refusal says which --swarm they had.
func TestSwarmIsPartOfTheVersion(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "1", "--out", out, "--swarm", "crash,partition")
	require.Equal(t, exitPass, code, errOut)
	code, _, errOut = simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitBadInput, code, errOut)
	require.Contains(t, errOut, ":1: a result of another version of this scenario (scenario hash ")
	require.Contains(t, errOut, ", swept with --swarm 'crash,partition', now ")
	// The kinds' order changes no draw, so it is the same version.
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "2", "--out", out, "--swarm", "partition,crash")
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "(1 by an earlier sweep)")
}

// TestAnotherBuildsResultsAreNotContinued: after the code changes (another
// build), the same command does not take the old build's seeds for done,
// since they may now run differently; --resume runs them again beside the
// old results, which merge then counts as the sweep does; shards of two
// builds that run a seed differently are named.
func TestAnotherBuildsResultsAreNotContinued(t *testing.T) {
	as := func(build string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Program{Name: "simrun", Build: build}.Execute(args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	scenario, out := writeScenario(t), t.TempDir()
	results := filepath.Join(out, "short", "results.jsonl")
	code, _, errOut := as("build-a", "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, errOut)

	code, _, errOut = as("build-b", "sweep", scenario, "--seeds", "2", "--out", out)
	require.Equal(t, exitBadInput, code, errOut)
	require.Regexp(t, `results.jsonl:1: a result of another build \(scenario hash [0-9a-f]{16}, run by build build-a; now build build-b\): `+
		`the code may run its seeds differently; run them again with another --out, or pass --resume`, errOut)

	code, stdout, errOut := as("build-b", "sweep", scenario, "--seeds", "2", "--out", out, "--resume")
	require.Equal(t, exitPass, code, errOut)
	require.Regexp(t, `pass +2\n`, stdout)
	require.Regexp(t, `also holds 2 results of another build \(scenario hash [0-9a-f]{16}, run by build build-a\), left apart: not counted or continued here\n`, stdout)
	data, err := os.ReadFile(results)
	require.NoError(t, err)
	require.Equal(t, 4, bytes.Count(data, []byte("\n")), "build-b ran both seeds again")
	require.Equal(t, 2, bytes.Count(data, []byte(`"build":"build-b"`)))

	// In one file, a later build's result of a seed supersedes an earlier
	// one's, as in the sweep: merge counts the seed once, even where the old
	// code ran it differently.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	lines[0] = withField(t, lines[0], "trace_hash", "0123456789abcdef")
	writeResultsFile(t, filepath.Dir(results), lines...)
	code, stdout, errOut = as("build-b", "merge", out)
	require.Equal(t, exitPass, code, stdout+errOut)
	require.Regexp(t, `pass +2\n`, stdout)
	require.Contains(t, stdout, "also holds 2 results of build build-a, which build build-b continued with --resume: left apart, not counted\n")

	// A seed only the earlier build ran is left apart too: merge counts
	// what the sweep counts, the latest build's results.
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &m))
	m["seed"], m["swept"] = 3, map[string]any{"from": 1, "seeds": 3, "shard": 0, "of": 1}
	data, err = json.Marshal(m)
	require.NoError(t, err)
	extra := string(data)
	writeResultsFile(t, filepath.Dir(results), append([]string{extra}, lines...)...)
	code, stdout, errOut = as("build-b", "merge", out)
	require.Equal(t, exitPass, code, stdout+errOut)
	require.Contains(t, stdout, "short: 2 seeds")
	require.Contains(t, stdout, "also holds 3 results of build build-a")

	// Across files, shards of two builds must agree on a seed: merge says so
	// when they do not, naming the builds and the platforms they ran on.
	shard := filepath.Join(t.TempDir(), "short")
	other := withField(t, withField(t, lines[3], "build", "build-c"), "trace_hash", "fedcba9876543210")
	writeResultsFile(t, shard, withField(t, other, "platform", "plan9/mips"))
	code, stdout, errOut = as("build-b", "merge", out, filepath.Dir(shard))
	require.Equal(t, exitNondeterministic, code, stdout+errOut)
	here := regexp.QuoteMeta(platform())
	require.Regexp(t, `seed [12]: trace hash [0-9a-f]{16} \(build build-b on `+here+`\) and fedcba9876543210 \(build build-c on plan9/mips\): the builds run it differently`, stdout)
	require.Regexp(t, `\ndeterminism \d seeds? run twice and their trace hashes compared \(results from ([^)]*, )?plan9/mips(, [^)]*)?\): 1 ran differently\n`, stdout)
}

// withField returns the JSON object line with key set to value.
func withField(t *testing.T, line, key, value string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &m))
	m[key] = value
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return string(out)
}

// TestResumeKeepsOtherVersionsApart: with --resume, results of an edited
// scenario stay in the file but count for nothing: this version runs every
// seed of its own and the summary says what else the file holds.
func TestResumeKeepsOtherVersionsApart(t *testing.T) {
	out := t.TempDir()
	code, _, errOut := simrun(t, "sweep", writeScenario(t), "--seeds", "3", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	code, stdout, errOut := simrun(t, "sweep", writeEdited(t), "--seeds", "3", "--out", out, "--resume")
	require.Equal(t, exitPass, code, errOut)
	require.Regexp(t, `sweep       short: 3 seeds`, stdout)
	require.Contains(t, stdout, "also holds 3 results of another version of this scenario")
	data, err := os.ReadFile(filepath.Join(out, "short", "results.jsonl"))
	require.NoError(t, err)
	require.Equal(t, 6, bytes.Count(data, []byte("\n")), "each version ran its own 3 seeds")
}

// syncRecorder records writes and syncs in order.
type syncRecorder struct{ ops []string }

func (s *syncRecorder) Write(p []byte) (int, error) {
	s.ops = append(s.ops, "write")
	return len(p), nil
}

func (s *syncRecorder) Sync() error {
	s.ops = append(s.ops, "sync")
	return nil
}

// TestEveryResultIsSynced: each appended line reaches the disk before the
// next, so a machine crash loses at most the last result.
func TestEveryResultIsSynced(t *testing.T) {
	var rec syncRecorder
	for seed := range uint64(3) {
		r := result{Report: runner.Report{Scenario: "s", Seed: seed, Class: runner.Pass}}
		require.NoError(t, appendResult(&rec, &r))
	}
	require.Equal(t, []string{"write", "sync", "write", "sync", "write", "sync"}, rec.ops)
}

// blockedPath is a path that cannot be created, even by root: its parent is
// a regular file.
func blockedPath(t *testing.T, name string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	return filepath.Join(file, name)
}

// TestUnwritablePathsAreBadInput: a flag naming a path that cannot be
// written exits 2 with one line naming the flag and the path.
func TestUnwritablePathsAreBadInput(t *testing.T) {
	scenario := writeScenario(t)
	cases := map[string][]string{
		"--trace":   {"run", scenario, "--trace", blockedPath(t, "t.jsonl")},
		"--history": {"run", scenario, "--history", blockedPath(t, "h.jsonl")},
		"--out":     {"sweep", scenario, "--seeds", "1", "--out", blockedPath(t, "out")},
	}
	for flag, args := range cases {
		t.Run(flag, func(t *testing.T) {
			code, _, errOut := simrun(t, args...)
			require.Equal(t, exitBadInput, code, errOut)
			require.Contains(t, errOut, "simrun: "+flag+": ")
			require.Contains(t, errOut, args[len(args)-1])
			require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
		})
	}
}

// TestFailingRunWithoutArtifactsKeepsItsExitCode: a safety violation whose
// artifacts cannot be written still exits 3, with a warning and the replay
// line.
func TestFailingRunWithoutArtifactsKeepsItsExitCode(t *testing.T) {
	code, stdout, errOut := simrun(t, "run", "../scenarios/bugs/raft-bug-ack-before-sync.yaml", "--seed", "1", "--out", blockedPath(t, "out"))
	require.Equal(t, exitSafety, code, stdout+errOut)
	require.Contains(t, errOut, "simrun: warning: --out: artifacts not written: ")
	require.Contains(t, stdout, "replay      simrun run ../scenarios/bugs/raft-bug-ack-before-sync.yaml --seed 1\n")
	require.NotContains(t, stdout, "artifacts   ")
}

// TestReplayInPlaceKeepsTheEditedScenario: a failure's scenario.yaml run
// again into its own directory (its replay line with the same --out) is
// left as its user edited it, comments included; the other artifacts are
// written anew beside it.
func TestReplayInPlaceKeepsTheEditedScenario(t *testing.T) {
	out := t.TempDir()
	code, stdout, errOut := simrun(t, "run", "../scenarios/bugs/raft-bug-ack-before-sync.yaml", "--seed", "1", "--out", out)
	require.Equal(t, exitSafety, code, stdout+errOut)
	dir := filepath.Join(out, "raft-bug-ack-before-sync-seed1")
	scenario := filepath.Join(dir, runner.ScenarioFile)
	written, err := os.ReadFile(scenario)
	require.NoError(t, err)
	edited := append([]byte("# seen on the build of Monday: the ack goes out before the sync\n"), written...)
	require.NoError(t, os.WriteFile(scenario, edited, 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, runner.TraceFile)))

	code, stdout, errOut = simrun(t, "run", scenario, "--out", out)
	require.Equal(t, exitSafety, code, stdout+errOut)
	require.Contains(t, stdout, "artifacts   "+dir+"\n            scenario.yaml\n")
	kept, err := os.ReadFile(scenario)
	require.NoError(t, err)
	require.Equal(t, string(edited), string(kept))
	require.FileExists(t, filepath.Join(dir, runner.TraceFile))
}

// TestScenarioWithByteOrderMark: a UTF-8 byte order mark at the start of a
// scenario file is skipped; the run is the same run.
func TestScenarioWithByteOrderMark(t *testing.T) {
	plain := writeScenario(t)
	bom := filepath.Join(t.TempDir(), "short.yaml")
	require.NoError(t, os.WriteFile(bom, []byte("\ufeff"+shortScenario), 0o644))
	code, withBOM, errOut := simrun(t, "run", bom, "--seed", "2")
	require.Equal(t, exitPass, code, errOut)
	code, without, errOut := simrun(t, "run", plain, "--seed", "2")
	require.Equal(t, exitPass, code, errOut)
	require.Equal(t, traceHash(t, without), traceHash(t, withBOM))
}

// TestOnlyATimedOutSearchIsRetried: a seed whose linearizability search ran
// out of time is retried by the next sweep; one whose search outgrew its
// memory is not: that happens again on every run, with any --lin-timeout.
// One whose budget, counted in search steps, ran out is retried only with a
// larger --lin-timeout: the same budget stops it at the same step; one that
// Porcupine's wall-clock timer stopped is retried with any.
func TestOnlyATimedOutSearchIsRetried(t *testing.T) {
	inconclusive := func(outgrown, outOfSteps bool) *result {
		return &result{LinTimeout: 40 * time.Second, Report: runner.Report{Class: runner.Inconclusive, Checks: []runner.CheckResult{
			{Name: "agreement", Verdict: "pass"}, {Name: "linearizable", Verdict: "unknown", Outgrown: outgrown, OutOfSteps: outOfSteps}}}}
	}
	require.True(t, inconclusive(false, false).retriable())
	require.False(t, inconclusive(true, false).retriable())
	require.True(t, inconclusive(false, false).retryWith(40*time.Second), "the timer stopped it")
	require.True(t, inconclusive(false, true).retriable(), "a larger budget may decide it")
	require.False(t, inconclusive(false, true).retryWith(40*time.Second), "the same budget stops it at the same step")
	require.True(t, inconclusive(false, true).retryWith(80*time.Second))
	require.False(t, inconclusive(true, false).retryWith(80*time.Second))
}

// TestTallyKeepsPassesSmall: a pass is held as a small entry, yet the
// summary still finds the slowest seeds (the lower seed first among equals)
// and the first failure's replay line.
func TestTallyKeepsPassesSmall(t *testing.T) {
	tl := newTally("s", "5ce0a11000000001")
	for seed, wall := range []time.Duration{3, 1, 3, 2, 5} {
		r := result{Report: runner.Report{Scenario: "s", File: "s.yaml", Seed: uint64(seed), Class: runner.Pass,
			Hash: "00000000000000aa", WallTime: wall * time.Second, Checks: []runner.CheckResult{{Name: "agreement"}}},
			LinTimeout: time.Minute}
		tl.add(r)
	}
	for _, e := range tl.bySeed {
		require.Nil(t, e.full, "a pass keeps no whole result")
	}
	var seeds []uint64
	for _, e := range tl.slowest(3) {
		seeds = append(seeds, e.seed)
	}
	require.Equal(t, []uint64{4, 0, 2}, seeds)

	tl.add(result{Report: runner.Report{Scenario: "s", File: "s.yaml", Seed: 1, Class: runner.Pass, Hash: "00000000000000bb"}})
	var out bytes.Buffer
	tl.print(&out, "results.jsonl", "simrun")
	require.Contains(t, out.String(), "first fail  seed 1  nondeterministic: seed 1: trace hash 00000000000000aa and 00000000000000bb\n")
	require.Contains(t, out.String(), "replay      simrun run s.yaml --seed 1 --lin-timeout 1m0s --check-determinism\n")
}

// TestAnotherScenariosResultsAreNamed: results of another scenario copied
// into a sweep's results file are refused as that scenario's, by name, with
// --resume too: they are no version of this scenario to keep apart.
func TestAnotherScenariosResultsAreNamed(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	other := filepath.Join(dir, "other.yaml")
	require.NoError(t, os.WriteFile(other, []byte(strings.Replace(shortScenario, "name: short", "name: other", 1)), 0o644))
	code, _, errOut := simrun(t, "sweep", other, "--seeds", "1", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.NoError(t, os.MkdirAll(filepath.Join(out, "short"), 0o755))
	data, err := os.ReadFile(filepath.Join(out, "other", "results.jsonl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "short", "results.jsonl"), data, 0o644))
	for _, resume := range []string{"--resume=false", "--resume"} {
		code, _, errOut = simrun(t, "sweep", writeScenario(t), "--seeds", "1", "--out", out, resume)
		require.Equal(t, exitBadInput, code)
		require.Regexp(t, `short/results.jsonl:1: a result of another scenario \("other", scenario hash [0-9a-f]{16}; this is "short"\): choose another --out\n$`, errOut)
	}
}

// TestMergeTellsSeedsWithoutAResult: shards merged together must cover
// their sweep's range. A shard that never ran, or shards swept over
// different ranges, leave seeds without a result: merge names them and
// exits 1, as for an interrupted sweep; with every shard, it passes.
func TestMergeTellsSeedsWithoutAResult(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	shard := func(k, n, seeds string) string {
		dir := filepath.Join(out, "shard-"+k+"-of-"+n+"-"+seeds)
		code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", seeds, "--shard", k+"/"+n, "--out", dir)
		require.Equal(t, exitPass, code, stdout+errOut)
		return dir
	}
	a, b := shard("0", "3", "6"), shard("1", "3", "6")
	code, stdout, errOut := simrun(t, "merge", a, b)
	require.Equal(t, exitInternal, code, stdout+errOut)
	require.Contains(t, stdout, "unfinished  2 seeds of the range swept have no result (seeds 3, 6); no result from shard 2/3: a shard is missing, was cut short or swept a shorter range\n")
	require.Contains(t, errOut, "seeds without a result in 1 scenario version: run their missing shards")

	c := shard("2", "3", "6")
	code, stdout, errOut = simrun(t, "merge", a, b, c)
	require.Equal(t, exitPass, code, stdout+errOut)
	require.NotContains(t, stdout, "unfinished")

	// Shards of one sweep run with different --seeds: seed 4 of the longer
	// range belongs to shard 1, which swept only seeds 1 and 2.
	code, stdout, _ = simrun(t, "merge", shard("0", "2", "4"), shard("1", "2", "2"))
	require.Equal(t, exitInternal, code)
	require.Contains(t, stdout, "unfinished  1 seed of the range swept has no result (seed 4): a shard is missing, was cut short or swept a shorter range\n")

	// Three seeds over four shards: shard 3 has none, and is not named.
	code, stdout, _ = simrun(t, "merge", shard("0", "4", "3"), shard("2", "4", "3"), shard("3", "4", "3"))
	require.Equal(t, exitInternal, code)
	require.Contains(t, stdout, "(seed 2); no result from shard 1/4: ")
}

// TestReportRefusesWhatSweepRefuses: a results line sweep and merge refuse
// is refused by report too, with the same error, before any page counts it.
func TestReportRefusesWhatSweepRefuses(t *testing.T) {
	_, out, results := sweptOneSeed(t)
	good, err := os.ReadFile(results)
	require.NoError(t, err)
	for _, bad := range []string{"null", withField(t, strings.TrimSpace(string(good)), "class", "weird")} {
		writeResultsFile(t, filepath.Dir(results), strings.TrimSpace(string(good)), bad)
		_, _, mergeErr := simrun(t, "merge", out)
		code, _, errOut := simrun(t, "report", out)
		require.Equal(t, exitBadInput, code, errOut)
		require.Equal(t, mergeErr, errOut)
		require.Contains(t, errOut, results+":2")
		require.NoFileExists(t, filepath.Join(out, "report.html"))
	}
}

// TestResumeWritesArtifactsThatCouldNotBeWritten: a failing seed whose
// artifacts could not be written (a file in the way) keeps its result and
// class; the same command, once the way is clear, runs it again to write
// them and says so.
func TestResumeWritesArtifactsThatCouldNotBeWritten(t *testing.T) {
	scenario, out := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"), t.TempDir()
	failures := filepath.Join(out, "raft-bug-ack-before-sync", "failures")
	require.NoError(t, os.MkdirAll(failures, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(failures, "seed-1"), nil, 0o644)) // in the way
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	require.Contains(t, errOut, "warning: seed 1: artifacts not written")

	require.NoError(t, os.Remove(filepath.Join(failures, "seed-1")))
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	require.Contains(t, stdout, "rewritten   1 failing seed run again to write the artifacts an earlier sweep did not\n")
	require.FileExists(t, filepath.Join(failures, "seed-1", "report.html"))

	code, stdout, _ = simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code)
	require.NotContains(t, stdout, "rewritten", "nothing left to write")

	// Still in the way: the seed runs again, is not counted as rewritten.
	require.NoError(t, os.RemoveAll(filepath.Join(failures, "seed-1")))
	require.NoError(t, os.WriteFile(filepath.Join(failures, "seed-1"), nil, 0o644))
	code, stdout, errOut = simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code)
	require.Contains(t, errOut, "warning: seed 1: artifacts not written")
	require.NotContains(t, stdout, "rewritten")
}

// TestSummarySaysWhatWasCheckedForDeterminism: the summary counts the
// seeds --check-determinism ran twice, those an earlier sweep of the range
// ran twice included (a resumed sweep's summary once dropped them), and
// says so when no seed of the range was run twice although the flag asks
// for it (every seed was finished before, unchecked).
func TestSummarySaysWhatWasCheckedForDeterminism(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "4", "--check-determinism=2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "determinism 2 seeds run twice and their trace hashes compared")
	code, stdout, errOut = simrun(t, "sweep", scenario, "--seeds", "4", "--check-determinism=2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "determinism 2 seeds run twice (2 by an earlier sweep) and their trace hashes compared")
	code, stdout, _ = simrun(t, "sweep", scenario, "--seeds", "6", "--check-determinism=0", "--out", out)
	require.Equal(t, exitPass, code)
	require.Contains(t, stdout, "determinism 2 seeds run twice (2 by an earlier sweep)", "seeds 5 and 6 ran once")

	unchecked := t.TempDir()
	code, _, _ = simrun(t, "sweep", scenario, "--seeds", "4", "--check-determinism=0", "--out", unchecked)
	require.Equal(t, exitPass, code)
	code, stdout, _ = simrun(t, "sweep", scenario, "--seeds", "4", "--check-determinism=2", "--out", unchecked)
	require.Equal(t, exitPass, code)
	require.Contains(t, stdout, "determinism no seed run twice: --check-determinism checks only the seeds a sweep runs")

	// Every shard of a fanned-out sweep checks some of its own seeds: with
	// 4 shards and one seed in 5, shard 1 (seeds 2, 6, ..., 38) checks 2
	// and 22.
	code, stdout, errOut = simrun(t, "sweep", scenario, "--seeds", "40", "--shard", "1/4", "--check-determinism=5", "--out", t.TempDir())
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "determinism 2 seeds run twice")
}

// TestReportOfShards: report takes the directory holding a sweep's shards
// and draws them as one sweep.
func TestReportOfShards(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	for _, k := range []string{"0", "1"} {
		code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "4", "--shard", k+"/2", "--out", filepath.Join(out, "shard-"+k))
		require.Equal(t, exitPass, code, errOut)
	}
	code, stdout, errOut := simrun(t, "report", out)
	require.Equal(t, exitPass, code, errOut)
	require.Equal(t, "report      "+filepath.Join(out, "report.html")+"\n", stdout)
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "1 scenario.")
	require.Regexp(t, `short <span class="muted">4 seeds`, string(page))
	require.NotContains(t, string(page), "unfinished")

	// A shard missing: the page and the command say which seeds have no
	// result, as merge does, instead of rates that look whole.
	require.NoError(t, os.RemoveAll(filepath.Join(out, "shard-1")))
	code, stdout, errOut = simrun(t, "report", out)
	require.Equal(t, exitPass, code, errOut)
	require.Regexp(t, `^unfinished  short \(scenario hash [0-9a-f]{16}\): 2 seeds of the range swept have no result \(seeds 2, 4\); no result from shard 1/2`, stdout)
	page, err = os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), `<div class="beyond">unfinished: 2 seeds of the range swept have no result (seeds 2, 4); no result from shard 1/2`)
}

// TestAwaitInterrupt: the first interrupt stops the command and says what
// happens then; a second one quits at once, with the signal; a command that
// ends by itself says nothing, and releasing the interrupt's watch ends its
// context.
func TestAwaitInterrupt(t *testing.T) {
	var errOut bytes.Buffer
	var quit []os.Signal
	quitWith := func(sig os.Signal) { quit = append(quit, sig) }
	ctx, stop := context.WithCancel(context.Background())
	interrupts := make(chan os.Signal, 2)
	interrupts <- os.Interrupt
	released := make(chan struct{})
	close(released)
	awaitInterrupt(ctx, stop, interrupts, released, &errOut, "the running seeds finish", quitWith)
	require.Error(t, ctx.Err(), "the sweep is stopped")
	require.Equal(t, "stopping: the running seeds finish\n", errOut.String())
	require.Empty(t, quit, "released before a second interrupt")

	ctx, stop = context.WithCancel(context.Background())
	interrupts <- syscall.SIGTERM
	interrupts <- os.Interrupt
	awaitInterrupt(ctx, stop, interrupts, make(chan struct{}), io.Discard, "", quitWith)
	require.Equal(t, []os.Signal{os.Interrupt}, quit, "the second interrupt quits, whatever the first was")

	errOut.Reset()
	ctx, stop = context.WithCancel(context.Background())
	stop()
	awaitInterrupt(ctx, stop, make(chan os.Signal, 1), make(chan struct{}), &errOut, "the running seeds finish", quitWith)
	require.Empty(t, errOut.String())

	ctx, release := stopOnInterrupt(context.Background(), &errOut, "the running seeds finish")
	require.NoError(t, ctx.Err())
	release()
	require.Error(t, ctx.Err(), "released: the watch is over")
	require.Empty(t, errOut.String())
}

// TestSweepFromSeedZeroContinues: seed 0 is a seed like any: a sweep from
// it stores its range and continues, and merge reads it.
func TestSweepFromSeedZeroContinues(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--from", "0", "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	code, stdout, errOut := simrun(t, "sweep", scenario, "--from", "0", "--seeds", "3", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "short: 3 seeds")
	code, _, errOut = simrun(t, "merge", out)
	require.Equal(t, exitPass, code, errOut)
}

// TestAHugeResultIsWrittenShortened: a result whose reason, crash or list
// of faults has no bound (a protocol's panic with a whole buffer as its
// value) is written cut to a line that sweep, merge and report read back,
// keeping its verdict.
func TestAHugeResultIsWrittenShortened(t *testing.T) {
	huge := strings.Repeat("x", jsonl.MaxLine)
	r := result{Report: runner.Report{Scenario: "s", Seed: 3, ScenarioHash: "5ce0a11000000001", Class: runner.ProtocolCrash,
		Hash: "00000000000000aa", Reason: huge, Beyond: slices.Repeat([]string{"at 1s: n1's clock jumped 2s"}, 50000),
		Checks: []runner.CheckResult{{Name: "agreement", Verdict: "pass", Detail: huge}},
		Crash:  &sim.Crash{Node: 1, Value: huge, Stack: huge, Recent: []string{huge}}}}
	var w bufferSync
	require.NoError(t, appendResult(&w, &r))
	line := bytes.TrimSuffix(w.Bytes(), []byte("\n"))
	require.Less(t, len(line), maxResultLine)
	back, err := parseResult(line)
	require.NoError(t, err)
	require.Equal(t, runner.ProtocolCrash, back.Class)
	require.True(t, strings.HasSuffix(back.Reason, fmt.Sprintf("... (%d bytes more)", jsonl.MaxLine-keptText)))
	require.Len(t, back.Beyond, maxBeyondKept+1)
	require.Equal(t, huge, r.Reason, "the result itself is not changed")
}

// bufferSync is a results file in memory.
type bufferSync struct{ bytes.Buffer }

func (*bufferSync) Sync() error { return nil }

// TestInterruptedSweepKeepsItsFailuresCode: a sweep stopped (Ctrl-C, or
// SIGTERM to a shard) after it found a violation exits with that class's
// code, not 1: the finding must not hide behind the interruption.
func TestInterruptedSweepKeepsItsFailuresCode(t *testing.T) {
	out := t.TempDir()
	bug := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml")
	results := filepath.Join(out, "raft-bug-ack-before-sync", "results.jsonl")
	cancel, wait := startSweep(t, "sweep", bug, "--seeds", "99999", "--parallel", "1", "--out", out)
	waitForLines(t, results, 3) // seed 1 fails, as in TestPlantedBugFailsWithReplay
	cancel()
	code, stdout, _ := wait()
	require.Equal(t, exitSafety, code, stdout)
	require.Contains(t, stdout, "first fail  seed 1  safety")
	require.Contains(t, stdout, "interrupted: ")
}

// TestAFailureOutlivesAResultsWriteError: results that could not be written
// (a full disk) end the sweep with an error naming --out that lists the
// failing seeds among them, and exits with the gravest one's code: bad input
// only when none failed.
func TestAFailureOutlivesAResultsWriteError(t *testing.T) {
	s := &sweepRun{tally: newTally("s", "5ce0a11000000001"), writeErr: errors.New("no space left on device")}
	s.lose(&runner.Report{Seed: 1, Class: runner.Pass})
	err := s.writeFailure("out/s/results.jsonl")
	var ex *exitError
	require.ErrorAs(t, err, &ex)
	require.Equal(t, exitBadInput, ex.code)
	require.Equal(t, "--out: writing out/s/results.jsonl: no space left on device (1 result of this sweep not recorded)", ex.msg)

	s.lose(&runner.Report{Seed: 2, Class: runner.Liveness})
	s.lose(&runner.Report{Seed: 3, Class: runner.Safety})
	require.ErrorAs(t, s.writeFailure("out/s/results.jsonl"), &ex)
	require.Equal(t, exitSafety, ex.code)
	require.Equal(t, "--out: writing out/s/results.jsonl: no space left on device (3 results of this sweep not recorded; "+
		"failing among them: seed 2 liveness, seed 3 safety)", ex.msg)
}

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
				require.Regexp(t, `results.jsonl also holds 1 result of build unknown, which build b2 continued with --resume: left apart, not counted$`, sc.LeftApart)
			}},
		{"two machines agree on one seed of two", [][]string{{pass, resultLine("s", h, 5, runner.Pass, trace)}, {pass}},
			func(t *testing.T, sc *report.Scenario) {
				st := report.Stats(sc)
				require.Equal(t, 1, st.Rechecked, "seed 4's two hashes were compared, seed 5's not")
				require.True(t, sc.Results[0].Rechecked)
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
			scs, err := sweepScenarios(dir, "simrun")
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
	bug, dir, out := sweptBugSeed1(t, "bug.yaml")
	edited := writeIn(t, dir, "bug.yaml", strings.Replace(bug, "think_time: 10ms", "think_time: 11ms", 1))
	code, _, errOut := simrun(t, "sweep", edited, "--seeds", "1", "--out", out, "--resume")
	require.Equal(t, exitSafety, code, errOut)

	scs, err := sweepScenarios(out, "simrun")
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
	bug, dir, out := sweptBugSeed1(t, "a.yaml")
	writeIn(t, dir, "a.yaml", strings.Replace(bug, "bugs: [ack-before-sync]", "bugs: []", 1))
	b := writeIn(t, dir, "b.yaml", bug)
	code, stdout, errOut := simrun(t, "sweep", b, "--seeds", "2", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	require.Contains(t, stdout, "replay      simrun run "+b+" --seed 1\n")
}

// sweptBugSeed1 writes the ack-before-sync planted bug's scenario as name in
// a directory of its own, sweeps its seed 1 (a safety failure) into an out
// directory, and returns the scenario's text and both directories.
func sweptBugSeed1(t *testing.T, name string) (bug, dir, out string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"))
	require.NoError(t, err)
	dir, out = t.TempDir(), t.TempDir()
	code, _, errOut := simrun(t, "sweep", writeIn(t, dir, name, string(data)), "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	return string(data), dir, out
}

// TestMergeKeepsWhatOnlyTwoResultsShow: conflicts and gravity that a third
// file, a missing hash or another sweep's range must not undo.
func TestMergeKeepsWhatOnlyTwoResultsShow(t *testing.T) {
	const h, trace = "5ce0a11000000001", "00000000000000aa"
	merge := func(files ...[]string) (int, string) {
		dir := t.TempDir()
		for i, lines := range files {
			writeResultsFile(t, filepath.Join(dir, "f"+strconv.Itoa(i)), lines...)
		}
		code, out, errOut := simrun(t, "merge", dir)
		return code, out + errOut
	}
	// Pass and safety from one trace conflict; a third pass does not clear it.
	pass, safety := resultLine("s", h, 4, runner.Pass, trace), resultLine("s", h, 4, runner.Safety, trace)
	code, out := merge([]string{pass}, []string{safety}, []string{pass})
	require.Equal(t, exitNondeterministic, code, out)
	require.Equal(t, 1, mergedClasses(out)["nondeterministic"], out)

	// A seed that ran two ways is graver than one with no verdict.
	code, out = merge([]string{resultLine("s", h, 1, runner.Inconclusive, trace), resultLine("s", h, 2, runner.Pass, "00000000000000bb")},
		[]string{resultLine("s", h, 2, runner.Pass, "00000000000000cc")})
	require.Equal(t, exitNondeterministic, code, out)
	require.Contains(t, out, "first fail  seed 2  nondeterministic")

	// A crash outside the handlers has no trace hash: no conflict with one
	// that has.
	code, out = merge([]string{resultLine("s", h, 5, runner.ProtocolCrash, trace)}, []string{resultLine("s", h, 5, runner.ProtocolCrash, "")})
	require.Equal(t, exitCrash, code, out)
	require.NotContains(t, out, "nondeterministic")

	// A seed another sweep ran, outside this range, fills no hole in it.
	swept := func(seed, from, n uint64) string {
		r := result{Report: runner.Report{Scenario: "s", File: "s.yaml", Seed: seed, ScenarioHash: h, Class: runner.Pass, Hash: trace},
			Swept: &sweptRange{From: from, Seeds: n, Of: 1}}
		data, err := json.Marshal(r)
		require.NoError(t, err)
		return string(data)
	}
	code, out = merge([]string{swept(1, 1, 2), swept(2, 1, 2)}, []string{resultLine("s", h, 3, runner.Pass, trace)}, []string{swept(4, 4, 1)})
	require.Equal(t, exitPass, code, out)
	require.NotContains(t, out, "unfinished")
}

// TestReportTakesAResultsFile: report given a sweep's results.jsonl, as
// merge takes it, draws the page of that scenario's directory; another file
// is bad input that says what report takes.
func TestReportTakesAResultsFile(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "s", "results.jsonl")
	writeResultsFile(t, filepath.Dir(results), resultLine("s", "5ce0a11000000001", 1, runner.Pass, "00000000000000aa"))
	code, fromFile, errOut := simrun(t, "report", results)
	require.Equal(t, exitPass, code, errOut)
	code, fromDir, errOut := simrun(t, "report", filepath.Dir(results))
	require.Equal(t, exitPass, code, errOut)
	require.Equal(t, fromDir, fromFile)

	other := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(other, []byte("x\n"), 0o644))
	code, _, errOut = simrun(t, "report", other)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: "+other+": not a directory (report takes a failure's directory, a sweep's --out, or a results.jsonl)\n", errOut)

	half := filepath.Join(dir, "seed-1")
	require.NoError(t, os.Mkdir(half, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(half, "report.json"), []byte("{}\n"), 0o644))
	code, _, errOut = simrun(t, "report", half)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: "+half+": not a run's artifacts: it has report.json but no trace.jsonl\n", errOut)
}

// TestSweepMaxArtifactsBoundsTheFailuresWritten: a sweep writes artifacts
// for at most --max-artifacts failing seeds of a scenario, workers side by
// side; the others keep a result marked no_artifacts, which a sweep run
// again takes for done while the budget is spent, and runs again, lowest
// first, to write theirs once it is raised. The summary says how many.
func TestSweepMaxArtifactsBoundsTheFailuresWritten(t *testing.T) {
	bug, out := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"), t.TempDir()
	failures := filepath.Join(out, "raft-bug-ack-before-sync", "failures")
	sweep := func(max string) (int, string, string) {
		return simrun(t, "sweep", bug, "--seeds", "6", "--parallel", "2", "--max-artifacts", max, "--out", out)
	}
	pages := func() int {
		found, err := filepath.Glob(filepath.Join(failures, "*", "report.html"))
		require.NoError(t, err)
		return len(found)
	}
	code, stdout, errOut := sweep("1")
	require.Equal(t, exitSafety, code, errOut)
	require.Equal(t, 1, pages())
	data, err := os.ReadFile(filepath.Join(out, "raft-bug-ack-before-sync", "results.jsonl"))
	require.NoError(t, err)
	failed, without := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.Contains(line, `"class":"pass"`) {
			failed++
		}
		if strings.Contains(line, `"no_artifacts":true`) {
			without++
		}
	}
	require.Equal(t, failed-1, without, string(data))
	require.Greater(t, without, 1)
	require.Contains(t, stdout, fmt.Sprintf("artifacts   written for 1 failing seed (--max-artifacts 1); %d more have none:", without))

	_, stdout, errOut = sweep("1")
	require.Contains(t, errOut, "nothing to run, all 6 seeds were finished by an earlier sweep")
	require.Contains(t, stdout, fmt.Sprintf("artifacts   written for 1 failing seed (--max-artifacts 1); %d more have none:", without),
		"the seeds still without artifacts are named on every sweep of the directory")
	_, stdout, _ = sweep("2")
	require.Contains(t, stdout, "rewritten   1 failing seed run again to write the artifacts an earlier sweep did not\n")
	require.Contains(t, stdout, fmt.Sprintf("artifacts   written for 2 failing seeds (--max-artifacts 2); %d more %s none:", without-1,
		map[bool]string{true: "has", false: "have"}[without-1 == 1]))
	require.Equal(t, 2, pages())
	_, stdout, errOut = sweep("2")
	require.Contains(t, errOut, "nothing to run", "a rewritten seed's later result, with artifacts, counts")
	require.Contains(t, stdout, fmt.Sprintf("; %d more", without-1))
	_, _, _ = sweep("0")
	require.Equal(t, failed, pages(), "0 writes them all")

	code, _, errOut = simrun(t, "sweep", bug, "--max-artifacts", "-1", "--out", out)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --max-artifacts: must not be negative (0 writes them all), got -1\n", errOut)
}

// TestResumeLeavesANondeterministicSeedBe: a seed found nondeterministic
// has its verdict, and no artifacts to write (the two runs disagree on
// what the trace is): continuing the sweep runs it no more, where running
// it again on every continuation would append a line for it each time.
func TestResumeLeavesANondeterministicSeedBe(t *testing.T) {
	scenario, out, results := sweptOneSeed(t)
	data, err := os.ReadFile(results)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(data), &m))
	m["class"], m["reason"] = "nondeterministic", "seed 1: trace hash 0123456789abcdef and fedcba9876543210"
	edited, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(results, append(edited, '\n'), 0o644))

	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "1", "--out", out)
	require.Equal(t, exitNondeterministic, code, stdout+errOut)
	require.Contains(t, errOut, "nothing to run, its one seed was finished by an earlier sweep")
	after, err := os.ReadFile(results)
	require.NoError(t, err)
	require.Equal(t, string(edited)+"\n", string(after), "no line appended")
}

// TestSweepPageSurvivesDamagedArtifacts: a failure whose artifacts lost
// their page and trace cannot get a page, and the sweep's page is written
// anyway, saying so for that seed; the command names it, and the sweep
// that wrote the artifacts writes them again.
func TestSweepPageSurvivesDamagedArtifacts(t *testing.T) {
	out := t.TempDir()
	bug := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml")
	args := []string{"sweep", bug, "--seeds", "2", "--parallel", "1", "--out", out}
	code, _, errOut := simrun(t, args...)
	require.Equal(t, exitSafety, code, errOut)
	failure := filepath.Join(out, "raft-bug-ack-before-sync", "failures", "seed-1")
	require.NoError(t, os.Remove(filepath.Join(failure, "trace.jsonl")))
	require.NoError(t, os.Remove(filepath.Join(failure, "report.html")))

	code, stdout, errOut := simrun(t, "report", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "unreadable  raft-bug-ack-before-sync seed 1: ")
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "artifacts unreadable</span>")

	_, stdout, _ = simrun(t, args...)
	require.Contains(t, stdout, "rewritten   1 failing seed run again to write the artifacts an earlier sweep did not\n")
	require.FileExists(t, filepath.Join(failure, "trace.jsonl"))
}

// TestSweepPageSaysTheSwarmAndReplaysSeedsWithoutArtifacts: a sweep's page
// names the --swarm its seeds drew their faults with, and gives a failing
// seed that has no artifacts (past --max-artifacts) its replay line.
func TestSweepPageSaysTheSwarmAndReplaysSeedsWithoutArtifacts(t *testing.T) {
	bug, out := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"), t.TempDir()
	code, stdout, errOut := simrun(t, "sweep", bug, "--seeds", "6", "--swarm", "crash", "--max-artifacts", "1", "--out", out)
	require.Equal(t, exitSafety, code, stdout+errOut)
	code, _, errOut = simrun(t, "report", out)
	require.Equal(t, exitPass, code, errOut)
	page, err := os.ReadFile(filepath.Join(out, report.File))
	require.NoError(t, err)
	require.Contains(t, string(page), "swept with <code>--swarm crash</code>")
	require.Regexp(t, `no artifacts</span><br><code>simrun run \S+raft-bug-ack-before-sync.yaml --seed \d+ --swarm crash</code>`, string(page))
}

// TestAnotherVersionsArtifactsAreWrittenAgain: a failure's artifacts that
// an edited scenario swept into the same --out (--resume) wrote over are
// not this version's: sweeping this version again writes them again.
func TestAnotherVersionsArtifactsAreWrittenAgain(t *testing.T) {
	out, dir := t.TempDir(), t.TempDir()
	text, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"))
	require.NoError(t, err)
	v1 := writeIn(t, dir, "v1.yaml", string(text))
	v2 := writeIn(t, dir, "v2.yaml", strings.Replace(string(text), "think_time: 10ms", "think_time: 11ms", 1))
	report1 := filepath.Join(out, "raft-bug-ack-before-sync", "failures", "seed-1", "report.json")
	hashOf := func() string {
		var m struct {
			Hash string `json:"trace_hash"`
		}
		data, err := os.ReadFile(report1)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &m))
		return m.Hash
	}
	code, _, errOut := simrun(t, "sweep", v1, "--seeds", "1", "--out", out)
	require.Equal(t, exitSafety, code, errOut)
	first := hashOf()
	code, _, errOut = simrun(t, "sweep", v2, "--seeds", "1", "--out", out, "--resume")
	require.Equal(t, exitSafety, code, errOut)
	require.NotEqual(t, first, hashOf(), "the edited scenario's failure of seed 1 took the directory")
	code, stdout, errOut := simrun(t, "sweep", v1, "--seeds", "1", "--out", out, "--resume")
	require.Equal(t, exitSafety, code, errOut)
	require.Contains(t, stdout, "rewritten   1 failing seed run again to write the artifacts an earlier sweep did not\n")
	require.Equal(t, first, hashOf())
}

// TestAResumeThatAddsNothingSaysWhichBuildMergeCounts: when another build
// wrote a results file's last lines and this build, resumed, adds none,
// merge counts the other build's results; the sweep says so.
func TestAResumeThatAddsNothingSaysWhichBuildMergeCounts(t *testing.T) {
	as := func(build string, args ...string) string {
		var out, errOut bytes.Buffer
		code := Program{Name: "simrun", Build: build}.Execute(args, &out, &errOut)
		require.Equal(t, exitPass, code, errOut.String())
		return out.String()
	}
	scenario, out := writeScenario(t), t.TempDir()
	as("build-a", "sweep", scenario, "--seeds", "2", "--out", out)
	as("build-b", "sweep", scenario, "--seeds", "1", "--out", out, "--resume")
	stdout := as("build-a", "sweep", scenario, "--seeds", "2", "--out", out, "--resume")
	require.Contains(t, stdout, "note        build build-b wrote the last results of ")
	require.NotContains(t, as("build-a", "sweep", scenario, "--seeds", "3", "--out", out, "--resume"), "note        build",
		"a build that writes a result is the latest again")
}

// FuzzParseResult feeds arbitrary lines to the results-file reader that
// merge, report and a resumed sweep share: it must never panic, every
// refusal must be one line naming a column, and every line it accepts must
// survive being written and read again.
//
//	go test ./cli -run '^$' -fuzz FuzzParseResult -fuzztime 60s
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		`{"scenario":"s","protocol":"raft","seed":4,"file":"s.yaml","scenario_hash":"5ce0a110000000aa","class":"pass",` +
			`"checks":[{"name":"agreement","verdict":"pass"}],"events":10,"sim_time_ns":5,"wall_time_ns":7,"trace_hash":"00000000000000aa",` +
			`"build":"b","platform":"linux/amd64","swept":{"from":1,"seeds":10,"shard":0,"of":1}}`,
		`{"scenario":"r","protocol":"raft","seed":2,"file":"r.yaml","scenario_hash":"210dba293b63c8dd","class":"safety",` +
			`"reason":"agreement violated","checks":[{"name":"agreement","verdict":"fail","detail":"two votes"}],"events":31273,` +
			`"sim_time_ns":5798973096,"wall_time_ns":8754924,"trace_hash":"aed79f74db5e7b53","ops":{"ok":132,"failed":0,"unknown":10},` +
			`"faults":"crashes=141","probes":{"raft/vote-granted":89},"lin_timeout_ns":40000000000,"swarm_kinds":["crash"],"no_artifacts":true}`,
		`{"scenario":"s","seed":1}`,
		`{"Scenario":"s","scenario":"t"}`,
		`{"scenario":null}`,
		`[]`,
		``,
		`{"swept":{"from":18446744073709551615,"seeds":2,"shard":0,"of":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if strings.ContainsAny(string(line), "\n\r") {
			return // the reader splits lines before it parses one
		}
		r, err := parseResult(line)
		if err != nil {
			var je *jsonl.Error
			if !errors.As(err, &je) || je.Col < 1 {
				t.Fatalf("refusal without a column: %T %v", err, err)
			}
			if strings.ContainsAny(je.Msg, "\n\r") {
				t.Fatalf("refusal of more than one line: %q", je.Msg)
			}
			return
		}
		out, err := json.Marshal(&r)
		if err != nil {
			t.Fatalf("an accepted result does not marshal: %v", err)
		}
		if _, err := parseResult(out); err != nil {
			t.Fatalf("an accepted result, written again, is refused: %v\n%s", err, out)
		}
	})
}
