package runner_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

// plantedBugs are the shipped scenarios that switch a planted bug on, with
// the seed bound a sweep gets to expose it and the checker that must trip
// (either of several, "a|b", for a bug that shows as either).
// Rates measured over 30 seeds with `simrun sweep` are in each comment.
var plantedBugs = []struct {
	file     string
	maxSeeds uint64
	checker  string
}{
	{"raft-bug-ack-before-sync.yaml", 20, "agreement"}, // 18/30
	{"raft-bug-commit-old-term.yaml", 40, "agreement"}, // 8/30
	// A second vote in one term: the agreement check's judgement of votes
	// sees it at once; one-leader-per-term only if it elects a second leader.
	{"raft-bug-forget-vote.yaml", 10, "agreement"},           // 143/200, first at seed 3
	{"raft-bug-no-term-check-on-vote.yaml", 20, "agreement"}, // 13/30
	// Only mid-step crashes expose it (TestSendBeforeSyncNeedsATornStep): a
	// vote or an acknowledgement the crash took back.
	{"raft-bug-send-before-sync.yaml", 10, "one-leader-per-term|agreement"}, // 68/200, first at seed 2
	// A liveness bug: the liveness verdict's reason reads "not converged ...".
	{"raft-bug-no-append-retry.yaml", 10, "not converged"},  // 30/30
	{"paxos-bug-accept-lower-ballot.yaml", 20, "agreement"}, // 19/30
	{"paxos-bug-forget-promise.yaml", 20, "agreement"},      // 18/30
	{"paxos-bug-ignore-accepted.yaml", 10, "agreement"},     // 27/30
	// The digests of the servers' states at every snapshot_interval-th slot.
	{"paxos-bug-snapshot-forgets-sessions.yaml", 5, "agreement"}, // 99/100, first at seed 1
	// Phase 1 over two lost records of one slot, and proposing in a
	// configuration no phase 1 covered: fixed timelines of their own.
	{"paxos-bug-one-lost-record-at-a-time.yaml", 5, "agreement"},       // 71/100, first at seed 2
	{"paxos-bug-propose-uncovered-configuration.yaml", 5, "agreement"}, // 92/100, first at seed 1
	{"pbft-bug-quorum-2f.yaml", 10, "agreement"},                       // 30/30
	{"pbft-bug-drop-prepared-certs.yaml", 10, "agreement"},             // 30/30
	// The linearizability verdict's reason reads "history is not linearizable: ...".
	{"pbft-bug-client-first-reply.yaml", 10, "history is not linearizable"}, // 30/30
	// The three acceptance checks that no adversary reached before issue 12,
	// each removed, against the behaviour that attacks it (bound: 300).
	{"pbft-bug-accept-conflicting-pre-prepare.yaml", 300, "agreement"}, // 200/200 (conflicting-pre-prepares), first at seed 1
	{"pbft-bug-trust-relayed-view-changes.yaml", 300, "agreement"},     // 30/30 (tamper-view-change)
	{"pbft-bug-trust-new-view-pre-prepares.yaml", 300, "agreement"},    // 18/30 (wrong-new-view)
	// A certificate's signers not checked distinct, against a forger that
	// repeats its own signature (forge-catch-up).
	{"pbft-bug-count-repeated-signers.yaml", 10, "agreement"}, // 30/30, first at seed 1
	// A restarted primary's second pre-prepare for a number: only the
	// judgement of votes sees it (the backups refuse it).
	{"pbft-bug-restart-reuses-sequence-numbers.yaml", 5, "agreement"}, // 95/100, first at seed 1
	// State transfer: the digests of the replicas' states at checkpoints.
	{"pbft-bug-state-transfer-forgets-sessions.yaml", 5, "agreement"}, // 100/100, first at seed 1
	{"pbft-bug-state-transfer-unchecked.yaml", 40, "agreement"},       // 13/100, first at seed 2
	// The primary check, against a Byzantine backup that races the primary:
	// no request commits, a liveness failure.
	{"pbft-bug-accept-pre-prepare-from-backup.yaml", 5, "not converged"}, // 200/200, first at seed 1
	// A view change joined on f requests: the faulty replica's unprompted
	// requests move the views while the primary works.
	{"pbft-bug-join-on-f-view-changes.yaml", 5, "stable-leader"}, // 100/100, first at seed 1
	// A transaction logged in two parts: the list-append history checks.
	{"raft-bug-partial-transactions.yaml", 10, "history is not serializable"}, // 20/20 (G1b)
	// Availability bugs: liveness verdicts from the availability checks,
	// which the safety checks miss (TestAvailabilityBugsMissedBySafetyChecks).
	{"raft-bug-leader-ignores-higher-term.yaml", 30, "stale-leader"}, // 44/60, first at seed 1
	{"raft-bug-stale-append-resets-timer.yaml", 10, "progress"},      // 60/60
	{"raft-bug-check-quorum-on-send.yaml", 5, "isolated-leader"},     // 200/200, first at seed 1
	{"raft-bug-match-never-lowered.yaml", 5, "progress"},             // 183/200, first at seed 1
	// A lease with no drift margin (read_mode: lease), the leader's clock
	// at half speed: a deposed leader serves stale reads.
	{"raft-bug-lease-no-drift-margin.yaml", 10, "history is not linearizable"}, // 15/20, first at seed 1
	// One open-loop client reading its own writes at followers: only one
	// client's program order at an instant (workload.RealTime) shows most.
	{"raft-bug-stale-follower-reads-open-loop.yaml", 5, "history is not linearizable"}, // 47/60 (18/60 on times alone), first at seed 1
	// A lease counted from the acknowledgements' arrival, which come late.
	{"raft-bug-lease-from-acks.yaml", 5, "history is not linearizable"}, // 24/30, first at seed 1
	// A leadership transfer whose leader keeps serving clients, lease reads
	// among them, while its target is elected past the lease guard.
	{"raft-bug-transfer-keeps-proposing.yaml", 10, "history is not linearizable"}, // 15/30, first at seed 2
	// Found by mutating the protocol: a transfer that voids the lease but
	// renews it from rounds acknowledged meanwhile, its TimeoutNow late; a
	// vote guard as long as the lease, on a voter whose clock runs fast.
	{"raft-bug-transfer-renews-lease.yaml", 5, "history is not linearizable"},        // 100/100, first at seed 1
	{"raft-bug-vote-guard-as-long-as-lease.yaml", 10, "history is not linearizable"}, // 31/60, first at seed 1
	// Membership changes: two servers replaced at once without a joint
	// configuration; removed servers that keep campaigning, which only the
	// quiet window after healing sees.
	{"raft-bug-no-joint-consensus.yaml", 20, "agreement|one-leader-per-term"}, // 92/200 (all by agreement), first at seed 3
	{"raft-bug-removed-server-campaigns.yaml", 10, "stable-leader"},           // 100/100, first at seed 1
	// Log compaction: snapshots that carry the initial configuration, and
	// snapshots without the client sessions.
	{"raft-bug-snapshot-forgets-config.yaml", 10, "agreement|one-leader-per-term"}, // 17/50 (14 by agreement), first at seed 2
	{"raft-bug-snapshot-forgets-sessions.yaml", 5, "agreement"},                    // 200/200, by the results of applies, first at seed 1
	// A stale snapshot installed over newer state: the apply order.
	{"raft-bug-install-stale-snapshot.yaml", 10, "agreement"}, // 118/200, first at seed 2
	// A Paxos configuration in force at once, without the alpha window.
	{"paxos-bug-no-alpha-window.yaml", 20, "agreement"}, // 7/50, first at seed 5
	// Mistakes only a sequence played at fixed times reaches: a phase 1
	// taking the lowest ballot's value, a new view taking the lowest view's
	// certificate, a re-elected leader counting its first term's late
	// acknowledgements.
	{"paxos-bug-adopt-lowest-ballot.yaml", 10, "agreement"},             // 29/30, first at seed 1
	{"paxos-bug-decide-any-accepted.yaml", 10, "agreement"},             // 26/30, first at seed 1
	{"paxos-bug-count-stale-promises.yaml", 5, "agreement"},             // 100/100, first at seed 1
	{"pbft-bug-new-view-lowest-certificate.yaml", 10, "agreement"},      // 30/30, first at seed 1
	{"pbft-bug-new-view-lowest-stable-checkpoint.yaml", 5, "agreement"}, // 100/100, first at seed 1
	{"pbft-bug-new-view-from-2f.yaml", 5, "agreement"},                  // 97/100, first at seed 1
	{"raft-bug-count-stale-acks.yaml", 10, "agreement"},                 // 23/30, first at seed 1
	// Checks that only one defence stood behind, found by mutating the
	// protocol: the first certificate kept where it is the oldest; a
	// certificate one prepare short from an equivocator; a new-view that
	// repeats the tampering primary's own view change.
	{"pbft-bug-new-view-first-certificate.yaml", 5, "agreement"},      // 96/100, first at seed 1
	{"pbft-bug-short-prepared-certificate.yaml", 30, "agreement"},     // 34/100, first at seed 5
	{"pbft-bug-new-view-repeated-view-changes.yaml", 40, "agreement"}, // 29/100, first at seed 12
	// Lease reads without the vote guard: a follower cut off from the
	// leader is elected while the leader's lease holds.
	{"raft-bug-lease-no-vote-guard.yaml", 10, "history is not linearizable"}, // 26/30, first at seed 1
	// The guard forgotten at a restart only: the restarted voter elects the
	// cut-off follower.
	{"raft-bug-restart-forgets-lease-guard.yaml", 10, "history is not linearizable"}, // 19/30, first at seed 2
	// A read-index read joining the round in flight, whose late
	// acknowledgements predate a new leader's writes.
	{"raft-bug-read-index-joins-earlier-round.yaml", 5, "history is not linearizable"}, // 100/100, first at seed 1
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
			if strings.HasPrefix(b.checker, "not converged") || slices.Contains([]string{"stale-leader", "progress", "stable-leader", "isolated-leader"}, b.checker) {
				want = runner.Liveness
			}
			require.Equal(t, want, failing.Class, failing.Reason)
			require.True(t, slices.ContainsFunc(strings.Split(b.checker, "|"), func(c string) bool {
				return strings.HasPrefix(failing.Reason, c)
			}), "want a %s violation, got: %s", b.checker, failing.Reason)
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

	dir := t.TempDir()
	_, err = runner.WriteArtifacts(dir, sc, proto, failing, runner.Options{Seed: failing.Seed})
	require.NoError(t, err)
	file, err := os.ReadFile(filepath.Join(dir, runner.ScenarioFile))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(file), "# The faults below are the ones --swarm drew for this seed, written out:\n"+
		"# run this file without --swarm"), "the file warns against drawing a second mix:\n%s", file)
	written, err := scenarios.Parse(runner.ScenarioFile, file)
	require.NoError(t, err)
	require.Equal(t, exported.Faults, written.Faults)
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
	for file, check := range map[string]string{"raft-bug-leader-ignores-higher-term.yaml": "stale-leader",
		"raft-bug-stale-append-resets-timer.yaml": "progress", "raft-bug-check-quorum-on-send.yaml": "isolated-leader",
		"raft-bug-match-never-lowered.yaml": "progress", "pbft-bug-join-on-f-view-changes.yaml": "stable-leader"} {
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
				if rep := runSeed(t, full, proto, seed); rep.Class == runner.Liveness && reportsCheck(rep.Reason, check) {
					caught++
				}
			}
			require.Positive(t, caught, "%s caught nothing in %d seeds", check, seeds)
		})
	}
}

// withOptions parses a shipped scenario with its protocol_options lines
// replaced, each old line by its new one.
func withOptions(t *testing.T, file string, replace ...string) (*scenarios.Scenario, runner.Protocol) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "scenarios", file))
	require.NoError(t, err)
	text := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		require.Contains(t, text, replace[i])
		text = strings.Replace(text, replace[i], replace[i+1], 1)
	}
	sc, err := scenarios.Parse(file, []byte(text))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	return sc, proto
}

// TestPreVoteKeepsCutOffServersFromDeposingTheLeader: on the pre-vote
// scenario, no leader ever steps down on a higher term (a server cut off
// fails its pre-votes and keeps its term), and with check-quorum an isolated
// leader steps down on its own; without pre-vote, servers that return from
// isolation with raised terms depose leaders in every seed, and without
// check-quorum no leader steps down on its own.
func TestPreVoteKeepsCutOffServersFromDeposingTheLeader(t *testing.T) {
	seeds := uint64(5)
	if testing.Short() {
		seeds = 2
	}
	on, proto := load(t, "raft-prevote-checkquorum.yaml", 0)
	off, _ := withOptions(t, "raft-prevote-checkquorum.yaml", "  pre_vote: true\n", "  pre_vote: false\n",
		"  check_quorum: true\n", "  check_quorum: false\n", ", isolated-leader]", "]")
	for seed := uint64(1); seed <= seeds; seed++ {
		with := runSeed(t, on, proto, seed)
		require.Equal(t, runner.Pass, with.Class, with.Reason)
		require.Zero(t, with.Probes["raft/leader-step-down-on-higher-term"], "seed %d", seed)
		require.Positive(t, with.Probes["raft/pre-vote-rejected-leader-heard-recently"], "seed %d", seed)
		require.Positive(t, with.Probes["raft/check-quorum-step-down"], "seed %d", seed)
		without := runSeed(t, off, proto, seed)
		require.Positive(t, without.Probes["raft/leader-step-down-on-higher-term"], "seed %d", seed)
		require.Zero(t, without.Probes["raft/check-quorum-step-down"]+without.Probes["raft/pre-vote-started"], "seed %d", seed)
	}
}

// TestLeadershipTransferHandsOver: on the transfer scenario the leader
// turns clients away while it hands over, and its target campaigns on
// MsgTimeoutNow: at least at the five transfers without a cut; those whose
// leader hears nothing back often cannot learn that the target caught up,
// and are abandoned after an election timeout.
func TestLeadershipTransferHandsOver(t *testing.T) {
	sc, proto := load(t, "raft-leadership-transfer.yaml", 0)
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Positive(t, rep.Probes["raft/transfer-request-refused"])
	campaigns := rep.Probes["raft/transfer-target-campaigns"]
	require.GreaterOrEqual(t, campaigns, uint64(5), "ten transfers asked for, five without a cut")
	require.Positive(t, rep.Probes["raft/transfer-aborted"])
	require.GreaterOrEqual(t, uint64(rep.LeaderChanges), campaigns)
}

// reportsCheck reports whether a failure's reason is the named check's:
// "progress violated: …" or "stable-leader: …", not merely a reason that
// begins with the same word.
func reportsCheck(reason, check string) bool {
	return strings.HasPrefix(reason, check+" violated") || strings.HasPrefix(reason, check+": ")
}
