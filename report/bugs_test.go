package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/report"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/stretchr/testify/require"
)

// firstFailingSeed is the lowest seed that fails, for each shipped bug
// scenario (found with a sweep; runner/bugs_test.go proves each is caught).
// A new bug scenario must be listed: the test finds its seed and says so.
var firstFailingSeed = map[string]uint64{
	"paxos-bug-accept-lower-ballot.yaml":              2,
	"paxos-bug-adopt-lowest-ballot.yaml":              1,
	"paxos-bug-count-stale-promises.yaml":             1,
	"paxos-bug-decide-any-accepted.yaml":              1,
	"paxos-bug-forget-promise.yaml":                   3,
	"paxos-bug-ignore-accepted.yaml":                  1,
	"paxos-bug-no-alpha-window.yaml":                  12,
	"paxos-bug-one-lost-record-at-a-time.yaml":        2,
	"paxos-bug-propose-uncovered-configuration.yaml":  1,
	"paxos-bug-snapshot-forgets-sessions.yaml":        1,
	"pbft-bug-accept-conflicting-pre-prepare.yaml":    1,
	"pbft-bug-accept-pre-prepare-from-backup.yaml":    1,
	"pbft-bug-client-first-reply.yaml":                1,
	"pbft-bug-count-repeated-signers.yaml":            1,
	"pbft-bug-drop-prepared-certs.yaml":               1,
	"pbft-bug-join-on-f-view-changes.yaml":            1,
	"pbft-bug-new-view-first-certificate.yaml":        1,
	"pbft-bug-new-view-from-2f.yaml":                  1,
	"pbft-bug-new-view-lowest-certificate.yaml":       1,
	"pbft-bug-new-view-lowest-stable-checkpoint.yaml": 1,
	"pbft-bug-new-view-repeated-view-changes.yaml":    12,
	"pbft-bug-quorum-2f.yaml":                         1,
	"pbft-bug-restart-reuses-sequence-numbers.yaml":   1,
	"pbft-bug-short-prepared-certificate.yaml":        5,
	"pbft-bug-state-transfer-forgets-sessions.yaml":   1,
	"pbft-bug-state-transfer-unchecked.yaml":          2,
	"pbft-bug-trust-new-view-pre-prepares.yaml":       2,
	"pbft-bug-trust-relayed-view-changes.yaml":        1,
	"pbft-too-many-byzantine.yaml":                    1,
	"raft-bug-ack-before-sync.yaml":                   1,
	"raft-bug-check-quorum-on-send.yaml":              1,
	"raft-bug-commit-old-term.yaml":                   6,
	"raft-bug-count-stale-acks.yaml":                  1,
	"raft-bug-follower-write-cache.yaml":              1,
	"raft-bug-forget-vote.yaml":                       8,
	"raft-bug-install-stale-snapshot.yaml":            3,
	"raft-bug-leader-ignores-higher-term.yaml":        1,
	"raft-bug-leader-local-reads.yaml":                1,
	"raft-bug-lease-from-acks.yaml":                   1,
	"raft-bug-lease-no-drift-margin.yaml":             1,
	"raft-bug-lease-no-vote-guard.yaml":               1,
	"raft-bug-match-never-lowered.yaml":               1,
	"raft-bug-no-append-retry.yaml":                   1,
	"raft-bug-no-joint-consensus.yaml":                3,
	"raft-bug-no-term-check-on-vote.yaml":             3,
	"raft-bug-partial-transactions.yaml":              1,
	"raft-bug-read-index-joins-earlier-round.yaml":    1,
	"raft-bug-removed-server-campaigns.yaml":          1,
	"raft-bug-restart-forgets-lease-guard.yaml":       2,
	"raft-bug-send-before-sync.yaml":                  6,
	"raft-bug-snapshot-forgets-config.yaml":           2,
	"raft-bug-snapshot-forgets-sessions.yaml":         1,
	"raft-bug-stale-append-resets-timer.yaml":         1,
	"raft-bug-stale-follower-reads.yaml":              1,
	"raft-bug-stale-follower-reads-open-loop.yaml":    1,
	"raft-bug-transfer-keeps-proposing.yaml":          2,
	"raft-bug-transfer-renews-lease.yaml":             1,
	"raft-bug-vote-guard-as-long-as-lease.yaml":       1,
}

// failedRun runs a seed of a bug scenario that fails, and returns the
// scenario, its protocol and the failing run's report.
func failedRun(t *testing.T, file string, seed uint64) (*scenarios.Scenario, runner.Protocol, *runner.Report) {
	t.Helper()
	sc, err := scenarios.ParseFile(filepath.Join("..", "scenarios", "bugs", file))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
	require.NoError(t, err)
	require.True(t, rep.Class.Failed(), "seed %d of %s passes now", seed, file)
	return sc, proto, rep
}

var laneRe = regexp.MustCompile(`<g class="lane" data-n="\d+">`)

// TestEveryPlantedBugIsShownInItsReport: each shipped bug scenario's first
// failing seed goes through the runner's artifacts, and its report.html
// rings the violating event in the diagram: the event the reason names, or,
// for a linearizability failure, the return of the operation Porcupine could
// not place, or, for a liveness failure, the end of the run. The diagram
// has a lane per node, servers and clients (a liveness failure's, a lane
// per server at least).
func TestEveryPlantedBugIsShownInItsReport(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "bugs", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			sc, err := scenarios.ParseFile(file)
			require.NoError(t, err)
			proto, err := registry.Resolve(sc)
			require.NoError(t, err)
			seed, listed := firstFailingSeed[filepath.Base(file)]
			if !listed {
				seed = firstFailure(t, sc, proto)
				t.Errorf("not in firstFailingSeed: list it with its first failing seed, %d", seed)
			}
			rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
			require.NoError(t, err)
			require.True(t, rep.Class.Failed(), "seed %d passes now: update its first failing seed", seed)
			dir := t.TempDir()
			written, err := runner.WriteArtifacts(dir, sc, proto, rep, runner.Options{Seed: seed})
			require.NoError(t, err)
			require.Contains(t, written, filepath.Join(dir, report.File))
			data, err := os.ReadFile(filepath.Join(dir, report.File))
			require.NoError(t, err)
			page := string(data)

			run, err := report.LoadRun(dir)
			require.NoError(t, err)
			v := run.Violation()
			if m := regexp.MustCompile(`at event (\d+)`).FindStringSubmatch(rep.Reason); m != nil {
				require.Equal(t, m[1], strconv.FormatUint(v.Event, 10), "the event the reason names")
			}
			require.NotZero(t, v.Event)
			require.Regexp(t, `<(g|line) class="violation" id="ev-`+strconv.FormatUint(v.Event, 10)+`"`, page)
			lanes := len(laneRe.FindAllString(page, -1))
			if rep.Class == runner.Liveness {
				// Anchored at the end of the run, whose window may hold the
				// servers' messages of the quiet window alone.
				require.GreaterOrEqual(t, lanes, sc.Nodes, "a lane per server")
				require.LessOrEqual(t, lanes, sc.Nodes+sc.Workload.Clients, "a lane per node at most")
			} else {
				require.Equal(t, sc.Nodes+sc.Workload.Clients, lanes, "a lane per node")
			}
			if slices.ContainsFunc(rep.Checks, func(c runner.CheckResult) bool { return c.Name == checkers.NameLinearizable && c.Verdict == "fail" }) {
				require.Contains(t, page, `<a href="linearizability.html">`)
				require.Contains(t, v.Why, "Porcupine")
			}
			require.Less(t, len(page), 1<<20)
			t.Logf("seed %d: event %d, %d bytes", seed, v.Event, len(page))
		})
	}
}

// firstFailure searches the first 60 seeds of a bug scenario not listed in
// firstFailingSeed (a new one) for its first failure.
func firstFailure(t *testing.T, sc *scenarios.Scenario, proto runner.Protocol) uint64 {
	for seed := uint64(1); seed <= 60; seed++ {
		rep, err := runner.Run(sc, proto, runner.Options{Seed: seed})
		require.NoError(t, err)
		if rep.Class.Failed() {
			return seed
		}
	}
	t.Fatal("no failure in 60 seeds")
	return 0
}
