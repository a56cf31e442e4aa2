package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeIn writes a file of the test's into dir and returns its path.
func writeIn(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// simrun runs the CLI in-process and returns its exit code and output.
func simrun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Program{Name: "simrun"}.Execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var hashLine = regexp.MustCompile(`(?m)^trace hash  ([0-9a-f]{16})$`)

func traceHash(t *testing.T, out string) string {
	t.Helper()
	m := hashLine.FindStringSubmatch(out)
	require.NotNil(t, m, "no trace hash in:\n%s", out)
	return m[1]
}

func TestRunPassesAndReplaysTheSameHash(t *testing.T) {
	args := []string{"run", "../scenarios/raft-calm.yaml", "--seed", "3"}
	code, out, errOut := simrun(t, args...)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, out, "verdict     PASS")
	require.Regexp(t, `operations  ok [1-9]\d* `, out)
	again, out2, _ := simrun(t, args...)
	require.Equal(t, exitPass, again)
	require.Equal(t, traceHash(t, out), traceHash(t, out2))
}

func TestRunWritesTraceAndHistory(t *testing.T) {
	dir := t.TempDir()
	trace, history := filepath.Join(dir, "t.jsonl"), filepath.Join(dir, "h.jsonl")
	code, out, errOut := simrun(t, "run", "../scenarios/raft-calm.yaml", "--trace", trace, "--history", history)
	require.Equal(t, exitPass, code, errOut)
	for _, f := range []string{trace, history} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(data, []byte("{")), f)
	}
	events := regexp.MustCompile(`events      (\d+)`).FindStringSubmatch(out)
	data, _ := os.ReadFile(trace)
	require.Equal(t, events[1], itoa(bytes.Count(data, []byte("\n"))), "one trace line per event")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRunRefusesOneFileForTwoUses: an output named like the scenario would
// be written over it, and two outputs in one file would mix their lines.
func TestRunRefusesOneFileForTwoUses(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "calm.yaml")
	data, err := os.ReadFile("../scenarios/raft-calm.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(sc, data, 0o644))
	code, _, errOut := simrun(t, "run", sc, "--history", sc)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --history "+sc+": the same file as the scenario\n", errOut)
	again, err := os.ReadFile(sc)
	require.NoError(t, err)
	require.Equal(t, data, again, "the scenario is untouched")

	trace := filepath.Join(dir, "t.jsonl")
	code, _, errOut = simrun(t, "run", sc, "--trace", trace, "--history", filepath.Join(dir, ".", "t.jsonl"))
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --history "+filepath.Join(dir, ".", "t.jsonl")+": the same file as --trace\n", errOut)
}

// TestPlantedBugFailsWithReplay: a safety violation exits 3, writes the
// artifacts and prints a replay command that reproduces the same trace.
func TestPlantedBugFailsWithReplay(t *testing.T) {
	out := t.TempDir()
	code, stdout, _ := simrun(t, "run", "../scenarios/bugs/raft-bug-ack-before-sync.yaml", "--seed", "1", "--out", out)
	require.Equal(t, exitSafety, code, stdout)
	require.Contains(t, stdout, "verdict     SAFETY: agreement violated at event")
	require.Contains(t, stdout, "replay      simrun run ../scenarios/bugs/raft-bug-ack-before-sync.yaml --seed 1")
	dir := filepath.Join(out, "raft-bug-ack-before-sync-seed1")
	for _, f := range []string{"scenario.yaml", "report.json", "history.jsonl", "trace.jsonl"} {
		require.FileExists(t, filepath.Join(dir, f))
	}
	replayCode, replayOut, _ := simrun(t, "run", filepath.Join(dir, "scenario.yaml"), "--out", t.TempDir())
	require.Equal(t, exitSafety, replayCode)
	require.Equal(t, traceHash(t, stdout), traceHash(t, replayOut), "the pinned scenario replays the same run")
}

// TestBadInputIsOneLineWithPosition: malformed scenarios and flags exit 2
// with one line naming file:line:column and the field, never a stack trace.
func TestBadInputIsOneLineWithPosition(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { return writeIn(t, dir, name, body) }
	base := "protocol: raft\nnodes: 3\nduration: 1s\nworkload: {clients: 1, keys: 1, timeout: 1s, retry_interval: 100ms}\n"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"run", write("a.yaml", base+"nodez: 3\n")}, "a.yaml:5:1: nodez"},
		{"wrong type", []string{"run", write("b.yaml", strings.Replace(base, "nodes: 3", "nodes: three", 1))}, "b.yaml:2:8: nodes"},
		{"unknown protocol", []string{"run", write("c.yaml", strings.Replace(base, "raft", "zab", 1))}, "c.yaml:1:11: protocol: unknown protocol \"zab\""},
		{"unknown bug", []string{"run", write("d.yaml", base+"protocol_options: {bugs: [nope]}\n")}, "d.yaml:5:"},
		{"missing file", []string{"run", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"bad flag", []string{"run", write("e.yaml", base), "--seed", "minus"}, "is not a whole number"},
		{"unknown command", []string{"jump"}, "unknown command"},
		{"misspelt command", []string{"runn", "x.yaml"}, `simrun: unknown command "runn" (did you mean run?)`},
		{"help on nothing", []string{"help", "sweeep"}, `simrun: no help topic "sweeep" (did you mean sweep?)`},
		{"two scenario files", []string{"run", "a.yaml", "b.yaml"}, "simrun: run takes one argument, a scenario file; got 2: a.yaml b.yaml"},
		{"a count after run's switch", []string{"run", "a.yaml", "2", "--check-determinism"},
			"(--check-determinism on run takes no count: it runs the seed twice)"},
		{"a count before the file", []string{"run", "--check-determinism", "2", "a.yaml"},
			"(--check-determinism on run takes no count: it runs the seed twice)"},
		{"no failure to shrink", []string{"shrink"}, "simrun: shrink: name a failure"},
		{"sweep too parallel", []string{"sweep", write("h.yaml", base), "--parallel", "1000000"}, "--parallel: at most 1024 worlds at once"},
		{"sweep zero seeds", []string{"sweep", write("f.yaml", base), "--seeds", "0"}, "--seeds: must be at least 1"},
		{"oversized file", []string{"run", write("g.yaml", base+strings.Repeat("# padding\n", 30_000))},
			"g.yaml:1:1: file is larger than the 262144 bytes a scenario may have"},
		// Read in bounded memory: a path to something endless is refused, not read to the end.
		{"endless file", []string{"run", "/dev/zero"},
			"zero:1:1: file is larger than the 262144 bytes a scenario may have"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := simrun(t, c.args...)
			require.Equal(t, exitBadInput, code, errOut)
			require.Contains(t, errOut, c.want)
			require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			require.NotContains(t, errOut, "goroutine")
		})
	}
}

func TestVersionAndProtocols(t *testing.T) {
	code, out, _ := simrun(t, "version")
	require.Equal(t, exitPass, code)
	require.True(t, strings.HasPrefix(out, "simrun "), out)
	var own bytes.Buffer
	require.Equal(t, exitPass, Program{Name: "mysim"}.execute(context.Background(), []string{"version"}, &own, io.Discard))
	require.True(t, strings.HasPrefix(own.String(), "mysim, built on simrun "), own.String())
	code, out, _ = simrun(t, "protocols")
	require.Equal(t, exitPass, code)
	require.Contains(t, out, "raft")
}

// TestShrinkOfASweepDirectoryNamesItsFailures: shrink given a sweep's
// results or run's --out (no scenario.yaml) says which failures'
// directories below it it takes; given an empty directory, what it takes;
// bad input every time.
func TestShrinkOfASweepDirectoryNamesItsFailures(t *testing.T) {
	out := t.TempDir()
	for _, seed := range []string{"seed-4", "seed-9"} {
		failure := filepath.Join(out, "churn", "failures", seed)
		require.NoError(t, os.MkdirAll(failure, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(failure, "scenario.yaml"), nil, 0o644))
	}
	code, _, errText := simrun(t, "shrink", out)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: "+out+" is not a failure's directory: shrink one of the 2 below it, such as "+
		filepath.Join(out, "churn", "failures", "seed-4")+", "+filepath.Join(out, "churn", "failures", "seed-9")+"\n", errText)
	code, _, errText = simrun(t, "shrink", filepath.Join(out, "churn"))
	require.Equal(t, exitBadInput, code)
	require.Contains(t, errText, "is not a failure's directory: shrink one of the 2 below it")

	runOut := t.TempDir() // run's --out: a directory per failing run
	failure := filepath.Join(runOut, "churn-seed3")
	require.NoError(t, os.MkdirAll(failure, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(failure, "scenario.yaml"), nil, 0o644))
	code, _, errText = simrun(t, "shrink", runOut)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: "+runOut+" is not a failure's directory: shrink one of the 1 below it, such as "+failure+"\n", errText)

	empty := t.TempDir()
	code, _, errText = simrun(t, "shrink", empty)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: "+empty+": no scenario.yaml here: shrink takes a failure's directory (written by run or sweep) or a scenario file with --seed\n", errText)
}

// TestShrinkSaysWhenItsRunsRanOut: a shrink stopped by --max-runs says so
// and how to go further, and one that finished does not; an --out in a
// directory that does not exist, in a file, or naming a directory, is
// refused before any run.
func TestShrinkSaysWhenItsRunsRanOut(t *testing.T) {
	bug := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml")
	dir := t.TempDir()
	code, _, errText := simrun(t, "shrink", bug, "--seed", "1", "--out", filepath.Join(dir, "missing", "min.yaml"))
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --out "+filepath.Join(dir, "missing", "min.yaml")+": its directory "+filepath.Join(dir, "missing")+" does not exist\n", errText)
	code, _, errText = simrun(t, "shrink", bug, "--seed", "1", "--out", dir)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --out "+dir+": a directory; name the file to write ("+filepath.Join(dir, "shrunk.yaml")+")\n", errText)
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	code, _, errText = simrun(t, "shrink", bug, "--seed", "1", "--out", filepath.Join(file, "min.yaml"))
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --out "+filepath.Join(file, "min.yaml")+": "+file+" is a file, not a directory\n", errText)

	code, out, errText := simrun(t, "shrink", bug, "--seed", "1", "--max-runs", "5", "--out", filepath.Join(dir, "five.yaml"))
	require.Equal(t, exitPass, code, errText)
	require.Contains(t, out, "runs        5: --max-runs ran out before shrinking was done; a larger one may find a smaller scenario\n")
	code, out, errText = simrun(t, "shrink", bug, "--seed", "1", "--out", filepath.Join(dir, "done.yaml"))
	require.Equal(t, exitPass, code, errText)
	require.Regexp(t, `\nruns        \d+\n`, out, "a shrink that finished says only how many runs it took")
}

// TestShrinkStoppedEarlyWritesAFileThatReads: a shrink whose runs ran out
// while every firing of two 1ms steps was still written out (far more than
// a scenario file holds) writes the scenario as run instead, which replays
// the failure, and says so; --out naming the input, or a --lin-timeout
// that is not positive, is refused before any run.
func TestShrinkStoppedEarlyWritesAFileThatReads(t *testing.T) {
	bug, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml"))
	require.NoError(t, err)
	busy := strings.Replace(string(bug), "faults:\n", "faults:\n"+
		"  - {from: 1ms, to: 10s, every: 1ms, resume: all-paused}\n"+
		"  - {from: 1ms, to: 10s, every: 1ms, clock: {node: random, rate: 1.0001}}\n", 1)
	require.NotEqual(t, string(bug), busy)
	dir := t.TempDir()
	input := filepath.Join(dir, "busy.yaml")
	require.NoError(t, os.WriteFile(input, []byte(busy), 0o644))

	code, _, errText := simrun(t, "shrink", input, "--seed", "2", "--out", input)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --out "+input+": the scenario being shrunk; name another file, so that it is kept\n", errText)
	code, _, errText = simrun(t, "shrink", input, "--seed", "2", "--lin-timeout", "0s")
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --lin-timeout: must be positive, got 0s\n", errText)

	min := filepath.Join(dir, "min.yaml")
	code, out, errText := simrun(t, "shrink", input, "--seed", "2", "--max-runs", "2", "--out", min)
	require.Equal(t, exitPass, code, errText)
	require.Regexp(t, `written     .*min\.yaml: the scenario as run, pinned to the seed; the \d+ fault steps shrinking got to are more than a scenario file holds\n`, out)
	written, err := os.ReadFile(min)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(written), "# The shrunk scenario has "), "the file says what it is:\n%.300s", written)
	code, replay, errText := simrun(t, "run", min, "--out", t.TempDir())
	require.Equal(t, exitSafety, code, errText)
	require.Contains(t, replay, "seed 2")
}

// TestInterruptedShrinkWritesWhatItFound: a shrink interrupted after its
// first run writes the failure found so far, a file that replays it, says
// it was interrupted and exits 1, as an interrupted sweep does.
func TestInterruptedShrinkWritesWhatItFound(t *testing.T) {
	bug := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml")
	min := filepath.Join(t.TempDir(), "min.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as an interrupt during the first run does
	var out, errOut bytes.Buffer
	code := Program{Name: "simrun"}.execute(ctx, []string{"shrink", bug, "--seed", "1", "--out", min}, &out, &errOut)
	require.Equal(t, exitInternal, code, errOut.String())
	require.Contains(t, out.String(), "runs        1: interrupted; this is the smallest failure found by then\n")
	require.Equal(t, "simrun: interrupted; the shrunk scenario so far is written\n", errOut.String())
	code, replay, errText := simrun(t, "run", min, "--out", t.TempDir())
	require.Equal(t, exitSafety, code, errText)
	require.Contains(t, replay, "verdict     SAFETY: agreement violated")
}

// TestFlagTypoSuggestsTheFlag: an unknown flag close to one of the
// command's own gets a "did you mean" hint; bad input either way.
func TestFlagTypoSuggestsTheFlag(t *testing.T) {
	code, _, errText := simrun(t, "run", writeScenario(t), "--seeds", "5")
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: unknown flag: --seeds (did you mean --seed?) (see 'simrun help')\n", errText)
	code, _, errText = simrun(t, "sweep", writeScenario(t), "--seed", "5")
	require.Equal(t, exitBadInput, code)
	require.Contains(t, errText, "unknown flag: --seed (did you mean --seeds?)")
	code, _, errText = simrun(t, "sweep", writeScenario(t), "--nothing-like-it")
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: unknown flag: --nothing-like-it (see 'simrun help')\n", errText)
}

// TestBadFlagValuesSayWhatTheyTake: a value the flag's type cannot hold is
// named with what the flag takes, not the parser's words; a count given to
// --check-determinism after a space, which made it a file, says how to give
// it.
func TestBadFlagValuesSayWhatTheyTake(t *testing.T) {
	scenario := writeScenario(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", scenario, "--seed", "-1"}, `--seed: "-1" is not a whole number from 0 to 18446744073709551615`},
		{[]string{"sweep", scenario, "--parallel", "1.5"}, `--parallel: "1.5" is not a whole number`},
		{[]string{"sweep", scenario, "--lin-timeout", "5"}, `--lin-timeout: "5" is not a duration such as 500ms, 2s or 1m30s`},
		{[]string{"run", scenario, "--check-determinism=maybe"}, `--check-determinism: "maybe" is not true or false`},
	} {
		code, _, errText := simrun(t, c.args...)
		require.Equal(t, exitBadInput, code, errText)
		require.Equal(t, "simrun: "+c.want+" (see 'simrun help')\n", errText)
	}
	code, _, errText := simrun(t, "sweep", scenario, "--check-determinism", "3", "--out", t.TempDir())
	require.Equal(t, exitBadInput, code, errText)
	require.Equal(t, "simrun: 3: no such scenario file; --check-determinism takes its count after an equals sign: --check-determinism=3\n", errText)
}

// TestReplayLinesInvokeTheBinaryAsTyped: a binary run by a relative path
// (./mysim, not on the PATH) prints replay lines that paste as they are;
// one found on the PATH, or renamed, is named by its name; one go run built
// is "go run" of its main package, which is how it can be typed again.
func TestReplayLinesInvokeTheBinaryAsTyped(t *testing.T) {
	args := os.Args
	t.Cleanup(func() { os.Args = args })
	for arg, want := range map[string]string{
		"./mysim":        "./mysim",
		"bin/mysim":      "bin/mysim",
		"mysim":          "mysim",
		"/usr/bin/mysim": "mysim",
		"./other":        "mysim",
		"./my dir/mysim": "'./my dir/mysim'",
	} {
		os.Args = []string{arg}
		require.Equal(t, want, typedAs("mysim"), arg)
	}
	for arg, want := range map[string]string{
		"/tmp/go-build2172562763/b001/exe/mysim": "go run example.com/me/cmd/mysim",
		"/tmp/go-build2172562763/b001/exe/other": "mysim",
		"/tmp/build/b001/exe/mysim":              "mysim",
		// From the second go run on, the executable go run keeps in the build cache.
		"/root/.cache/go-build/22/225ac2df2970e794feba903551fd59646f96eedbc9423012113d83746aa64848-d/mysim": "go run example.com/me/cmd/mysim",
		"/root/.cache/go-build/22/225ac2df2970e794feba903551fd59646f96eedbc9423012113d83746aa64848/mysim":   "mysim",
		"/root/.cache/go-build/2/225ac2df2970e794feba903551fd59646f96eedbc9423012113d83746aa64848-d/mysim":  "mysim",
	} {
		require.Equal(t, want, typedFrom(arg, "mysim", "example.com/me/cmd/mysim"), arg)
	}
	require.Equal(t, "mysim", typedFrom("/tmp/go-build1/b001/exe/mysim", "mysim", ""), "no main package known")
}

// TestMissingPathsAreNamed: report and merge name a path that is not there
// the same way, without the name of the call that found it missing.
func TestMissingPathsAreNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	for _, cmd := range []string{"report", "merge"} {
		code, _, errText := simrun(t, cmd, missing)
		require.Equal(t, exitBadInput, code)
		require.Equal(t, "simrun: "+missing+": no such file or directory\n", errText, cmd)
	}
}

// TestEmptyOutIsRefused: an empty --out would scatter results in the working
// directory; it is bad input.
func TestEmptyOutIsRefused(t *testing.T) {
	code, _, errText := simrun(t, "sweep", writeScenario(t), "--out", "")
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --out: empty: name the directory for results and failure artifacts\n", errText)
}

// TestShrinkRefusesNoRuns: --max-runs 0 (or less) leaves a shrink nothing
// to try: bad input, not a shrink that quietly runs the default budget.
func TestShrinkRefusesNoRuns(t *testing.T) {
	bug := filepath.Join("..", "scenarios", "bugs", "raft-bug-ack-before-sync.yaml")
	for _, n := range []string{"0", "-3"} {
		code, _, errOut := simrun(t, "shrink", bug, "--seed", "1", "--max-runs", n, "--out", filepath.Join(t.TempDir(), "x.yaml"))
		require.Equal(t, exitBadInput, code, errOut)
		require.Contains(t, errOut, "--max-runs: must be positive, got "+n)
	}
}

// TestShrinkOfAScenarioFileWritesUnderTheDefaultOut: without --out, what a
// scenario file shrinks to goes to run's default --out, not beside the
// file, where a later sweep of the folder's *.yaml would take it for one of
// its scenarios.
func TestShrinkOfAScenarioFileWritesUnderTheDefaultOut(t *testing.T) {
	bugs, err := filepath.Abs(filepath.Join("..", "scenarios", "bugs"))
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	code, out, errText := simrun(t, "shrink", filepath.Join(bugs, "raft-bug-ack-before-sync.yaml"), "--seed", "1", "--max-runs", "5")
	require.Equal(t, exitPass, code, errText)
	require.Contains(t, out, "written     simrun-out/raft-bug-ack-before-sync-shrunk-seed1.yaml\n")
	require.FileExists(t, filepath.Join("simrun-out", "raft-bug-ack-before-sync-shrunk-seed1.yaml"))
	require.NoFileExists(t, filepath.Join(bugs, "raft-bug-ack-before-sync-shrunk-seed1.yaml"))

	t.Chdir(t.TempDir()) // where simrun-out cannot be made: refused before any run
	require.NoError(t, os.WriteFile("simrun-out", nil, 0o644))
	code, out, errText = simrun(t, "shrink", filepath.Join(bugs, "raft-bug-ack-before-sync.yaml"), "--seed", "1")
	require.Equal(t, exitBadInput, code)
	require.Empty(t, out, "no run")
	require.Equal(t, "simrun: mkdir simrun-out: not a directory (where shrink writes without --out; name a file with --out)\n", errText)
}
