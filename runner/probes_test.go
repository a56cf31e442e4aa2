package runner_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simrun/simrun/protocols/pbft"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/stretchr/testify/require"
)

// shippedScenarios lists the shipped scenario files (not the bug ones) of a
// protocol.
func shippedScenarios(t testing.TB, protocol string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "scenarios", protocol+"-*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// probeSweep runs seeds 1..seeds of each scenario and returns the reports.
func probeSweep(t *testing.T, files []string, seeds uint64) []*runner.Report {
	t.Helper()
	var reps []*runner.Report
	for _, f := range files {
		sc, proto := load(t, f, 0)
		for seed := uint64(1); seed <= seeds; seed++ {
			rep := runSeed(t, sc, proto, seed)
			require.Equal(t, runner.Pass, rep.Class, "%s seed %d: %s", f, seed, rep.Reason)
			reps = append(reps, rep)
		}
	}
	return reps
}

// TestProbesAreDeclared: every probe the shipped protocols fire over their
// shipped scenarios is one they declare (a misspelt name would never be
// reported cold), the reports carry the counts, and a shipped scenario set
// reaches most of what its protocol declares. The cold ones are logged:
// they are the gaps a sweep summary shows.
func TestProbesAreDeclared(t *testing.T) {
	for _, name := range []string{"raft", "paxos", "pbft"} {
		t.Run(name, func(t *testing.T) {
			proto, ok := registry.Lookup(name)
			require.True(t, ok)
			require.NotEmpty(t, proto.Probes)
			files := shippedScenarios(t, name)
			if testing.Short() {
				files = files[:2]
			}
			reps := probeSweep(t, files, 1)
			require.Empty(t, runner.UndeclaredProbes(proto, reps), "fired but not declared")
			for _, rep := range reps {
				require.NotEmpty(t, rep.Probes, "%s seed %d counted no probe", rep.Scenario, rep.Seed)
			}
			cold := runner.ColdProbes(proto, reps)
			t.Logf("%s: %d/%d probes fired over %d scenarios; never: %s", name, len(proto.Probes)-len(cold),
				len(proto.Probes), len(files), strings.Join(cold, ", "))
			if !testing.Short() {
				require.Less(t, len(cold), len(proto.Probes)/2, "most probes must fire in the shipped scenarios")
			}
		})
	}
}

// TestProbesInResults: a report counts the probes that fired and its JSON
// form (a results.jsonl line) writes them under "probes" with sorted keys;
// ColdProbes names the declared ones that did not fire.
func TestProbesInResults(t *testing.T) {
	sc, proto := load(t, "raft-calm.yaml", 0)
	rep := runSeed(t, sc, proto, 1)
	require.NotZero(t, rep.Probes["raft/leader-elected"])
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	text := string(data)
	i, j := strings.Index(text, `"probes":{"raft/`), strings.Index(text, `"raft/leader-elected"`)
	k := strings.Index(text, `"raft/vote-granted"`)
	require.True(t, i > 0 && j > i && k > j, "probes are written with sorted keys: %s", text)
	cold := runner.ColdProbes(proto, []*runner.Report{rep})
	require.NotContains(t, cold, "raft/leader-elected")
	require.Contains(t, cold, "raft/append-truncated-conflicting-suffix", "a calm run truncates no log")
	require.Empty(t, runner.ColdProbes(runner.Protocol{}, []*runner.Report{rep}), "nothing declared, nothing cold")
}

// pbftUnreachable are the validity probes no shipped scenario can fire, and
// why.
var pbftUnreachable = map[string]string{
	// The bytes of a state transfer are checked against the checkpoint's
	// digest first, which 2f+1 replicas signed: bytes that match it but do
	// not decode need more than f liars.
	"pbft/state-rejected-undecodable": "needs a checkpoint digest signed by 2f+1 replicas over bytes that do not decode",
}

// TestPBFTValidityProbesFire: over a few seeds, the shipped PBFT scenarios
// (their Byzantine behaviours included) exercise every validity check a
// replica makes, each rejection reason firing its own probe, but the ones
// listed in pbftUnreachable with why. A check that no adversary reaches is
// one a bug could break unseen (issue 12).
func TestPBFTValidityProbesFire(t *testing.T) {
	seeds := uint64(3)
	if testing.Short() {
		seeds = 2
	}
	proto, ok := registry.Lookup("pbft")
	require.True(t, ok)
	reps := probeSweep(t, shippedScenarios(t, "pbft"), seeds)
	fired := runner.FiredProbes(reps)
	var cold []string
	for _, name := range pbft.ValidityProbes() {
		if _, skip := pbftUnreachable[name]; !skip && fired[name] == 0 {
			cold = append(cold, name)
		}
	}
	t.Logf("pbft: %d/%d probes fired over %d seeds; cold: %v", len(proto.Probes)-len(runner.ColdProbes(proto, reps)),
		len(proto.Probes), seeds, runner.ColdProbes(proto, reps))
	require.Empty(t, cold, "validity checks no shipped PBFT scenario exercises")
}
