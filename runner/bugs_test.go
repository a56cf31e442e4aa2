package runner_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

// plantedBugs are the shipped scenarios that switch a planted bug on, with
// the seed bound a sweep gets to expose it and the checker that must trip.
// Rates measured over 30 seeds with `simrun sweep` are in each comment.
var plantedBugs = []struct {
	file     string
	maxSeeds uint64
	checker  string
}{
	{"raft-bug-ack-before-sync.yaml", 20, "agreement"},       // 26/30
	{"raft-bug-commit-old-term.yaml", 40, "agreement"},       // 8/30
	{"raft-bug-forget-vote.yaml", 60, "one-leader-per-term"}, // 3/30
	{"raft-bug-no-term-check-on-vote.yaml", 20, "agreement"}, // 15/30
	// Only mid-step crashes expose it (TestSendBeforeSyncNeedsATornStep).
	{"raft-bug-send-before-sync.yaml", 40, "agreement"}, // 4/200, first at seed 34
	// A liveness bug: the liveness verdict's reason reads "not converged ...".
	{"raft-bug-no-append-retry.yaml", 10, "not converged"},  // 30/30
	{"paxos-bug-accept-lower-ballot.yaml", 20, "agreement"}, // 19/30
	{"paxos-bug-forget-promise.yaml", 20, "agreement"},      // 15/30
	{"paxos-bug-ignore-accepted.yaml", 10, "agreement"},     // 30/30
	{"pbft-bug-quorum-2f.yaml", 10, "agreement"},            // 30/30
	{"pbft-bug-drop-prepared-certs.yaml", 10, "agreement"},  // 30/30
	// The linearizability verdict's reason reads "history is not linearizable: ...".
	{"pbft-bug-client-first-reply.yaml", 10, "history is not linearizable"}, // 30/30
	// The three acceptance checks that no adversary reached before issue 12,
	// each removed, against the behaviour that attacks it (bound: 300).
	{"pbft-bug-accept-conflicting-pre-prepare.yaml", 300, "agreement"}, // 30/30 (conflicting-pre-prepares)
	{"pbft-bug-trust-relayed-view-changes.yaml", 300, "agreement"},     // 30/30 (tamper-view-change)
	{"pbft-bug-trust-new-view-pre-prepares.yaml", 300, "agreement"},    // 18/30 (wrong-new-view)
	// A transaction logged in two parts: the list-append history checks.
	{"raft-bug-partial-transactions.yaml", 10, "history is not serializable"}, // 20/20 (G1b)
	// Availability bugs: liveness verdicts from the availability checks,
	// which the safety checks miss (TestAvailabilityBugsMissedBySafetyChecks).
	{"raft-bug-leader-ignores-higher-term.yaml", 30, "stale-leader"}, // 40/60, first at seed 2
	{"raft-bug-stale-append-resets-timer.yaml", 10, "progress"},      // 60/60
	// A lease with no drift margin (read_mode: lease), the leader's clock
	// at half speed: a deposed leader serves stale reads.
	{"raft-bug-lease-no-drift-margin.yaml", 10, "history is not linearizable"}, // 22/30, first at seed 1
}

// TestPlantedBugsAreCaught: a bounded sweep of each bug scenario must end in
// a safety verdict from the expected checker, and the failing seed replays to
// the same trace. The test fails if a checker goes blind to its bug.
func TestPlantedBugsAreCaught(t *testing.T) {
	for _, b := range plantedBugs {
		t.Run(b.file, func(t *testing.T) {
			sc, proto := load(t, filepath.Join("bugs", b.file), 0)
			var failing *runner.Report
			for seed := uint64(1); seed <= b.maxSeeds && failing == nil; seed++ {
				if rep := runSeed(t, sc, proto, seed); rep.Class.Failed() {
					failing = rep
				}
			}
			require.NotNil(t, failing, "no failure in %d seeds: the checker misses the bug", b.maxSeeds)
			want := runner.Safety
			if strings.HasPrefix(b.checker, "not converged") || b.checker == "stale-leader" || b.checker == "progress" {
				want = runner.Liveness
			}
			require.Equal(t, want, failing.Class, failing.Reason)
			require.True(t, strings.HasPrefix(failing.Reason, b.checker), "want a %s violation, got: %s", b.checker, failing.Reason)
			replay := runSeed(t, sc, proto, failing.Seed)
			require.Equal(t, failing.Hash, replay.Hash, "the failing seed must replay")
			require.Equal(t, failing.Reason, replay.Reason)
			t.Logf("seed %d: %s", failing.Seed, failing.Reason)
		})
	}
}

// TestBugScenariosPassWithoutTheBug: the same faults against the correct
// protocol pass, so the failures above are the bugs', not the scenarios'.
func TestBugScenariosPassWithoutTheBug(t *testing.T) {
	for _, b := range plantedBugs {
		t.Run(b.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", b.file))
			require.NoError(t, err)
			fixed := regexp.MustCompile(`(?m)^  bugs: \[.*\]$`).ReplaceAll(data, []byte("  bugs: []"))
			require.NotEqual(t, data, fixed, "the scenario must switch its bug on in protocol_options.bugs")
			sc, err := scenarios.Parse(b.file, fixed)
			require.NoError(t, err)
			proto, err := registry.Resolve(sc)
			require.NoError(t, err)
			requirePasses(t, sc, proto, 5)
		})
	}
}

// TestLeaseNeedsItsDriftBound: the correct lease on the same scenario,
// with a drift bound (1.25) below the drift its clocks have (the leader's
// runs at half speed), serves stale reads too: the lease is only as good as
// lease_drift.
func TestLeaseNeedsItsDriftBound(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-lease-no-drift-margin.yaml"))
	require.NoError(t, err)
	low := strings.Replace(strings.Replace(string(data), "  bugs: [lease-no-drift-margin]", "  bugs: []", 1),
		"  lease_drift: 2\n", "  lease_drift: 1.25\n", 1)
	require.NotContains(t, low, "lease_drift: 2")
	sc, err := scenarios.Parse("low-drift.yaml", []byte(low))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	for seed := uint64(1); seed <= 10; seed++ {
		if rep := runSeed(t, sc, proto, seed); rep.Class.Failed() {
			require.True(t, strings.HasPrefix(rep.Reason, "history is not linearizable"), rep.Reason)
			t.Logf("seed %d: %s", seed, rep.Reason)
			return
		}
	}
	t.Fatal("a lease with too small a drift bound passed 10 seeds")
}

// TestSendBeforeSyncNeedsATornStep: with the same crashes striking between
// steps instead of inside them, the send-before-sync bug is invisible (the
// sync still happens before the handler's effects could be lost), which is
// why the kernel can cut a step between two effects.
func TestSendBeforeSyncNeedsATornStep(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", "raft-bug-send-before-sync.yaml"))
	require.NoError(t, err)
	between := strings.ReplaceAll(string(data), "mid_step: true, ", "")
	require.NotEqual(t, string(data), between)
	sc, err := scenarios.Parse("between-steps.yaml", []byte(between))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	requirePasses(t, sc, proto, 40)
}

// TestSwarmFailureExportsAnExplicitTimeline: a failing swarm seed is exported
// with the faults it drew written out (swarm off), and the export replays to
// the same trace: it stays meaningful after the code changes.
func TestSwarmFailureExportsAnExplicitTimeline(t *testing.T) {
	sc, err := scenarios.Parse("swarm-bug.yaml", []byte(`protocol: raft
nodes: 5
duration: 10s
swarm: [crash, crash-leader, pause, partition]
checks: [linearizable, agreement, one-leader-per-term]
protocol_options: {bugs: [ack-before-sync]}
`))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	var failing *runner.Report
	for seed := uint64(1); seed <= 60 && failing == nil; seed++ {
		if rep := runSeed(t, sc, proto, seed); rep.Class.Failed() {
			failing = rep
		}
	}
	require.NotNil(t, failing, "the swarm never exposed the planted bug")
	require.NotEmpty(t, failing.Swarm)
	exported := requirePinnedReplays(t, sc, proto, failing)
	require.NotEmpty(t, exported.Faults, "the swarm's steps, written out")
}

// TestAvailabilityBugsMissedBySafetyChecks: the planted availability bugs
// pass every safety check (agreement, one leader per term, linearizability)
// on the seeds where the availability checks catch them: only those see
// them.
func TestAvailabilityBugsMissedBySafetyChecks(t *testing.T) {
	seeds := uint64(10)
	if testing.Short() {
		seeds = 3
	}
	for _, file := range []string{"raft-bug-leader-ignores-higher-term.yaml", "raft-bug-stale-append-resets-timer.yaml"} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "scenarios", "bugs", file))
			require.NoError(t, err)
			safety := regexp.MustCompile(`(?m)^checks: \[.*\]$`).ReplaceAll(data, []byte("checks: [linearizable, agreement, one-leader-per-term]"))
			require.NotEqual(t, data, safety)
			sc, err := scenarios.Parse(file, safety)
			require.NoError(t, err)
			full, proto := load(t, filepath.Join("bugs", file), 0)
			caught := 0
			for seed := uint64(1); seed <= seeds; seed++ {
				require.Equal(t, runner.Pass, runSeed(t, sc, proto, seed).Class, "seed %d: a safety check saw the bug", seed)
				if rep := runSeed(t, full, proto, seed); rep.Class == runner.Liveness {
					caught++
				}
			}
			require.Positive(t, caught, "the availability checks caught nothing in %d seeds", seeds)
		})
	}
}
