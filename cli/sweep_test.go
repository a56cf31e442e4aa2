package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simrun/simrun/runner"
	"github.com/stretchr/testify/require"
)

const shortScenario = `name: short
protocol: raft
nodes: 3
duration: 1s
drain: 1s
network: {latency: {min: 1ms, max: 5ms}, drop: 0.02}
workload: {clients: 2, keys: 2, think_time: 10ms, timeout: 500ms, retry_interval: 50ms}
faults:
  - {at: 300ms, crash: leader, down: 200ms}
checks: [linearizable, agreement, one-leader-per-term]
`

func writeScenario(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "short.yaml")
	require.NoError(t, os.WriteFile(p, []byte(shortScenario), 0o644))
	return p
}

func resultsIn(t *testing.T, path string) map[uint64]runner.Report {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := map[uint64]runner.Report{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r runner.Report
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		_, dup := got[r.Seed]
		require.False(t, dup, "seed %d written twice", r.Seed)
		got[r.Seed] = r
	}
	return got
}

// TestSweepResultsDoNotDependOnParallel: the same seeds give the same trace
// hashes and verdicts with one worker or two.
func TestSweepResultsDoNotDependOnParallel(t *testing.T) {
	scenario := writeScenario(t)
	hashes := map[string]map[uint64]string{}
	for _, p := range []string{"1", "2"} {
		out := t.TempDir()
		code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "12", "--parallel", p, "--out", out)
		require.Equal(t, exitPass, code, stdout+errOut)
		require.Regexp(t, `pass +12\n`, stdout)
		results := resultsIn(t, filepath.Join(out, "short", "results.jsonl"))
		require.Len(t, results, 12)
		hashes[p] = map[uint64]string{}
		for seed, r := range results {
			hashes[p][seed] = r.Hash + string(r.Class)
		}
	}
	require.Equal(t, hashes["1"], hashes["2"])
}

// TestSweepResumes: running a sweep again over its results on disk runs only
// the missing seeds; results of an edited scenario are refused unless
// --resume insists.
func TestSweepResumes(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "4", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	results := filepath.Join(out, "short", "results.jsonl")

	// An interrupted write leaves half a line; resume drops it.
	f, err := os.OpenFile(results, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"scenario":"short","seed":`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	edited := filepath.Join(t.TempDir(), "short.yaml")
	require.NoError(t, os.WriteFile(edited, []byte(strings.Replace(shortScenario, "drop: 0.02", "drop: 0.03", 1)), 0o644))
	code, _, errOut = simrun(t, "sweep", edited, "--seeds", "8", "--out", out)
	require.Equal(t, exitBadInput, code)
	require.Contains(t, errOut, "another version of this scenario")

	before := readResultsLoose(t, results)
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "8", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Regexp(t, `pass +8\n`, stdout)
	after := resultsIn(t, results)
	require.Len(t, after, 8)
	for seed, r := range before {
		require.Equal(t, r.WallTime, after[seed].WallTime, "seed %d was run again", seed)
	}
}

// readResultsLoose reads complete lines only.
func readResultsLoose(t *testing.T, path string) map[uint64]runner.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	got := map[uint64]runner.Report{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var r runner.Report
		if json.Unmarshal(line, &r) == nil {
			got[r.Seed] = r
		}
	}
	return got
}

// deterministicLines drops the summary lines that depend on wall time or paths.
func deterministicLines(summary string) []string {
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(summary), "\n") {
		if !strings.HasPrefix(line, "slow ") && !strings.HasPrefix(line, "results ") && !strings.HasPrefix(line, "page ") {
			keep = append(keep, line)
		}
	}
	return keep
}

// TestSweepReadsEveryScenarioFirst: a broken file, or two scenarios of one
// name, stop the sweep before any seed runs; a file named twice is swept once.
func TestSweepReadsEveryScenarioFirst(t *testing.T) {
	good := writeScenario(t)
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte(shortScenario+"nodez: 3\n"), 0o644))
	out := t.TempDir()
	code, stdout, errOut := simrun(t, "sweep", good, broken, "--seeds", "2", "--out", out)
	require.Equal(t, exitBadInput, code, stdout+errOut)
	require.Contains(t, errOut, "broken.yaml:")
	require.NoDirExists(t, filepath.Join(out, "short"), "no seed ran")

	code, stdout, errOut = simrun(t, "sweep", good, writeEdited(t), "--seeds", "2", "--out", out)
	require.Equal(t, exitBadInput, code, stdout+errOut)
	require.Regexp(t, `\.yaml:1:7: name: "short" names \S+\.yaml too: their results would share `, errOut)
	require.Contains(t, errOut, filepath.Join(out, "short")+"; give one another name")
	require.NoDirExists(t, filepath.Join(out, "short"), "no seed ran")

	code, stdout, errOut = simrun(t, "sweep", good, good, "--seeds", "2", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Equal(t, 1, strings.Count(stdout, "sweep       short: 2 seeds"), stdout)
}

// TestMergeOfNothingFails: files without a single result (empty, or only
// a line an interruption cut short) are an error, not a passing summary.
func TestMergeOfNothingFails(t *testing.T) {
	dir := t.TempDir()
	empty, cut := filepath.Join(dir, "empty.jsonl"), filepath.Join(dir, "cut.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	require.NoError(t, os.WriteFile(cut, []byte(`{"scenario":"short","se`), 0o644))
	code, stdout, errOut := simrun(t, "merge", empty, cut)
	require.Equal(t, exitBadInput, code, stdout+errOut)
	require.Equal(t, "simrun: no sweep results in "+cut+", "+empty+": nothing to merge\n", errOut, "files in sorted order")
	require.Empty(t, stdout)
}

// TestSweepChecksDeterminismByDefault: a sweep given no
// --check-determinism runs its first seed, and every 100th after it, twice.
func TestSweepChecksDeterminismByDefault(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, stdout, errOut := simrun(t, "sweep", scenario, "--seeds", "3", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "\ndeterminism 1 seed run twice and their trace hashes compared")
	rechecked := map[uint64]bool{}
	data, err := os.ReadFile(filepath.Join(out, "short", "results.jsonl"))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct {
			Seed      uint64 `json:"seed"`
			Rechecked bool   `json:"rechecked"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		rechecked[r.Seed] = r.Rechecked
	}
	require.Equal(t, map[uint64]bool{1: true, 2: false, 3: false}, rechecked)
}

// TestShardsMergeLikeOneSweep: three shards of a seed range, merged, give
// the summary of one unsharded sweep, and together run every seed once.
// (Each shard runs its own sample of seeds twice, so the sweeps here run
// none: the sample differs from the unsharded sweep's by design.)
func TestShardsMergeLikeOneSweep(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, whole, errOut := simrun(t, "sweep", scenario, "--seeds", "10", "--check-determinism=0", "--out", filepath.Join(out, "whole"))
	require.Equal(t, exitPass, code, errOut)
	var shardDirs []string
	seen := map[uint64]int{}
	for k := range 3 {
		dir := filepath.Join(out, "shard-"+strconv.Itoa(k))
		shardDirs = append(shardDirs, dir)
		code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "10", "--check-determinism=0", "--shard", strconv.Itoa(k)+"/3", "--out", dir)
		require.Equal(t, exitPass, code, errOut)
		for seed := range resultsIn(t, filepath.Join(dir, "short", "results.jsonl")) {
			seen[seed]++
		}
	}
	require.Len(t, seen, 10)
	for seed, n := range seen {
		require.Equal(t, 1, n, "seed %d ran in %d shards", seed, n)
	}
	code, merged, errOut := simrun(t, append([]string{"merge"}, shardDirs...)...)
	require.Equal(t, exitPass, code, errOut)
	require.Equal(t, deterministicLines(whole), deterministicLines(merged))
	empty := t.TempDir() // a mistyped or never-synced shard directory among the others
	code, _, errOut = simrun(t, append([]string{"merge", empty}, shardDirs...)...)
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: no results.jsonl under "+empty+"\n", errOut)

	code, _, errOut = simrun(t, "sweep", scenario, "--seeds", "10", "--shard", "3/3", "--out", t.TempDir())
	require.Equal(t, exitBadInput, code)
	require.Contains(t, errOut, "--shard")
	code, _, errOut = simrun(t, "sweep", scenario, "--seeds", "10", "--shard", "", "--out", t.TempDir()) // --shard "$K" with K unset
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --shard: empty: give K/N, such as 0/4 (leave the flag out to run every seed)\n", errOut)
	code, _, errOut = simrun(t, "sweep", scenario, "--seeds", "10", "--swarm", "crash,clog,crash", "--out", t.TempDir())
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --swarm: swarm kind \"crash\" is listed twice\n", errOut)
}

// TestSwarmAllLeavesOutKinds: --swarm all,-corrupt,-disk draws every kind
// but those; a kind left out needs all before it.
func TestSwarmAllLeavesOutKinds(t *testing.T) {
	scenario, drawn := writeScenario(t), 0
	for seed := range 5 {
		code, stdout, errOut := simrun(t, "run", scenario, "--seed", strconv.Itoa(seed+1), "--swarm", "all,-corrupt,-disk", "--out", t.TempDir())
		require.NotEqual(t, exitBadInput, code, errOut) // a short run under every kind may be vacuous
		drawn += strings.Count(stdout, "\nswarm ")
		require.NotRegexp(t, `\nswarm +(corrupt|disk) `, stdout)
	}
	require.Positive(t, drawn)
	code, _, errOut := simrun(t, "run", scenario, "--swarm", "corrupt,-disk")
	require.Equal(t, exitBadInput, code)
	require.Equal(t, "simrun: --swarm: \"-disk\" leaves disk out of all: list all too\n", errOut)
}

// TestMergeFlagsConflictingHashes: the same seed with two trace hashes, as
// two machines running different builds would report, is nondeterministic.
func TestMergeFlagsConflictingHashes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, hash string) {
		line := resultLine("s", "5ce0a110000000aa", 4, runner.Pass, hash) + "\n"
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name, "results.jsonl"), []byte(line), 0o644))
	}
	write("a", "00000000000000aa")
	write("b", "00000000000000bb")
	code, out, _ := simrun(t, "merge", dir)
	require.Equal(t, exitNondeterministic, code)
	require.Contains(t, out, "nondeterministic")
	require.Contains(t, out, "replay      simrun run s.yaml --seed 4 --check-determinism")
	require.Contains(t, out, "\ndeterminism 1 seed run twice and their trace hashes compared: 1 ran differently\n")
}

// TestMergeSaysWhatItCompared: merging two machines' sweeps of the same
// seeds says how many seeds it compared and how many files each version
// came from; one sweep's results, no comparison and the file itself.
func TestMergeSaysWhatItCompared(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	for _, machine := range []string{"amd64", "arm64"} {
		code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "6", "--check-determinism=0", "--out", filepath.Join(out, machine))
		require.Equal(t, exitPass, code, errOut)
	}
	code, merged, errOut := simrun(t, "merge", filepath.Join(out, "amd64"), filepath.Join(out, "arm64"))
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, merged, "\nresults     2 files\n")
	require.Contains(t, merged, "\ndeterminism 6 seeds run twice and their trace hashes compared: each agrees\n")

	code, merged, errOut = simrun(t, "merge", filepath.Join(out, "amd64"))
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, merged, "\nresults     "+filepath.Join(out, "amd64", "short", "results.jsonl")+"\n")
	require.NotContains(t, merged, "determinism")
}

// TestCheckDeterminismRechecksASample: every Nth seed runs twice.
func TestCheckDeterminismRechecksASample(t *testing.T) {
	scenario, out := writeScenario(t), t.TempDir()
	code, _, errOut := simrun(t, "sweep", scenario, "--seeds", "7", "--check-determinism=3", "--out", out)
	require.Equal(t, exitPass, code, errOut)
	var rechecked []uint64
	for seed, r := range resultsIn(t, filepath.Join(out, "short", "results.jsonl")) {
		if r.Rechecked {
			rechecked = append(rechecked, seed)
		}
	}
	require.ElementsMatch(t, []uint64{1, 4, 7}, rechecked)
}

// TestSweepRefusesBadProtocolOptionsBeforeAnySeed: protocol options the
// protocol refuses (only it knows them) are one error, exit 2, before the
// first seed runs and before --out is touched, not an error per seed.
func TestSweepRefusesBadProtocolOptionsBeforeAnySeed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(p, []byte(shortScenario+"protocol_options: {heartbeat_interval: -50ms}\n"), 0o644))
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, errOut := simrun(t, "sweep", p, "--seeds", "20", "--out", out)
	require.Equal(t, exitBadInput, code, stdout+errOut)
	require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	require.Contains(t, errOut, "bad.yaml:11:")
	require.NoDirExists(t, out)
}

// TestSeedFlagOverridesAPinnedSeed: a scenario file that pins a seed (as a
// shrunk failure or an exported scenario.yaml does) runs it by default, and
// --seed, given, runs the seed it names instead.
func TestSeedFlagOverridesAPinnedSeed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pinned.yaml")
	require.NoError(t, os.WriteFile(p, []byte(shortScenario+"seed: 3\n"), 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "  seed 3\n"},
		{[]string{"--seed", "5"}, "  seed 5\n"},
	} {
		code, stdout, errOut := simrun(t, append([]string{"run", p, "--out", t.TempDir()}, c.args...)...)
		require.Equal(t, exitPass, code, errOut)
		require.Contains(t, stdout, c.want, c.args)
	}
}

// TestDeterminismSampleStartsAtFrom: --check-determinism=N reruns every Nth
// seed counted from --from, the first included, so a sweep of a range that
// starts past seed 1 rechecks some of its own seeds.
func TestDeterminismSampleStartsAtFrom(t *testing.T) {
	code, stdout, errOut := simrun(t, "sweep", writeScenario(t), "--from", "5", "--seeds", "3", "--check-determinism=10",
		"--parallel", "1", "--out", t.TempDir())
	require.Equal(t, exitPass, code, errOut)
	require.Contains(t, stdout, "\ndeterminism 1 seed run twice")
}
