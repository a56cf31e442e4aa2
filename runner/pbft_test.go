package runner_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simrun/simrun/protocols/pbft"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
	"github.com/simrun/simrun/workload"
	"github.com/stretchr/testify/require"
)

// TestPBFTTooManyByzantine: PBFT's bound n >= 3f+1 is tight. With f+1
// colluding Byzantine replicas (two of four), a bounded sweep finds correct
// replicas committing different requests at one sequence number, and the
// failing seed replays. The same scenario with f of them is
// pbft-byz-equivocate-n4, which passes.
func TestPBFTTooManyByzantine(t *testing.T) {
	sc, proto := load(t, filepath.Join("bugs", "pbft-too-many-byzantine.yaml"), 0)
	var failing *runner.Report
	for seed := uint64(1); seed <= 20 && failing == nil; seed++ { // 30/30 seeds fail
		if rep := runSeed(t, sc, proto, seed); rep.Class.Failed() {
			failing = rep
		}
	}
	require.NotNil(t, failing, "no safety violation with f+1 Byzantine replicas in 20 seeds")
	require.Equal(t, runner.Safety, failing.Class, failing.Reason)
	require.True(t, strings.HasPrefix(failing.Reason, "agreement"), failing.Reason)
	require.Equal(t, []string{"n0=equivocate", "n1=equivocate"}, failing.Byzantine)
	replay := runSeed(t, sc, proto, failing.Seed)
	require.Equal(t, failing.Hash, replay.Hash, "the failing seed must replay")
	t.Logf("seed %d: %s", failing.Seed, failing.Reason)
}

// TestBeyondTheFaultBudget: a run with more faulty replicas than PBFT
// tolerates (Byzantine ones, and correct ones whose disk the faults
// corrupted, count together) says so in its report; one within the budget
// says nothing.
func TestBeyondTheFaultBudget(t *testing.T) {
	sc, proto := load(t, filepath.Join("bugs", "pbft-too-many-byzantine.yaml"), 0)
	require.Equal(t, []string{"n0 n1 Byzantine: 2 faulty servers over the run, more than the 1 the protocol tolerates"}, runSeed(t, sc, proto, 1).Beyond)

	sc, proto = load(t, "pbft-byz-equivocate-n4.yaml", 2*time.Second)
	require.Empty(t, runSeed(t, sc, proto, 1).Beyond, "f Byzantine replicas: within the budget")
	for _, c := range []struct{ faults, want string }{
		{"  - {at: 500ms, corrupt: 3}\n", "n0 Byzantine, n3 with a corrupted disk: 2 faulty servers over the run, more than " +
			"the 1 the protocol tolerates"},
		{"  - {at: 300ms, disk: {node: 3, torn_writes: true}}\n  - {at: 500ms, crash: 3, down: 100ms}\n", "n0 Byzantine, " +
			"n3 crashed with a disk tearing writes: 2 faulty servers over the run, more than the 1 the protocol tolerates"},
	} {
		more, err := scenarios.Parse("x.yaml", []byte(strings.Replace(string(mustRead(t, "pbft-byz-equivocate-n4.yaml")),
			"faults:\n", "faults:\n"+c.faults, 1)))
		require.NoError(t, err)
		more.Duration = scenarios.Duration(2 * time.Second)
		require.Equal(t, []string{c.want}, runSeed(t, more, proto, 1).Beyond)
	}
}

// mustRead returns a shipped scenario file's text.
func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "scenarios", name))
	require.NoError(t, err)
	return b
}

// TestPBFTScenariosCoverEveryBehaviour: every Byzantine behaviour ships with
// a scenario for n=4 (f=1) and n=7 (f=2) with f replicas playing it.
func TestPBFTScenariosCoverEveryBehaviour(t *testing.T) {
	for _, b := range pbft.KnownBehaviours() {
		for _, n := range []int{4, 7} {
			name := "pbft-byz-" + b.Name + "-n" + strconv.Itoa(n) + ".yaml"
			t.Run(name, func(t *testing.T) {
				sc, _ := load(t, name, 0)
				require.Equal(t, n, sc.Nodes)
				total := 0
				for _, g := range sc.Byzantine {
					require.Equal(t, b.Name, g.Behaviour)
					total += len(g.Nodes) + g.Count
				}
				require.Equal(t, pbft.Faulty(n), total, "f Byzantine replicas")
				require.True(t, sc.HasCheck("liveness"), "correct replicas must converge despite them")
			})
		}
	}
}

// TestPBFTByzantineSameSeedSameTrace: runs with Byzantine replicas, view
// changes and crashes are deterministic too.
func TestPBFTByzantineSameSeedSameTrace(t *testing.T) {
	for _, name := range []string{"pbft-byz-forge-view-change-n4.yaml", "pbft-byz-delay-n7.yaml", "pbft-lossy.yaml"} {
		t.Run(name, func(t *testing.T) {
			sc, proto := load(t, name, 3*time.Second)
			seen := map[string]uint64{}
			for seed := uint64(1); seed <= 5; seed++ {
				first := runSeed(t, sc, proto, seed)
				second := runSeed(t, sc, proto, seed)
				require.Equal(t, runner.Pass, first.Class, "seed %d: %s", seed, first.Reason)
				require.Equal(t, first.Hash, second.Hash, "seed %d: same seed, different trace", seed)
				require.Equal(t, first.Byzantine, second.Byzantine)
				_, dup := seen[first.Hash]
				require.False(t, dup, "seeds gave the same trace")
				seen[first.Hash] = seed
			}
		})
	}
}

// TestPBFTBuildErrors: the registry rejects what PBFT cannot run, with a
// positioned error.
func TestPBFTBuildErrors(t *testing.T) {
	head := "name: p\nprotocol: pbft\n"
	for _, c := range []struct{ body, want string }{
		{"nodes: 3\n", "p.yaml:3:8: nodes: pbft runs 4 to 64 replicas (n = 3f+1 tolerates f Byzantine ones), not 3"},
		{"nodes: 4\nbyzantine:\n  - {count: 1, behaviour: lie}\n",
			`p.yaml:5:27: byzantine[0].behaviour: pbft: unknown Byzantine behaviour "lie" (known: conflicting-pre-prepares, conflicting-votes, crash, delay, equivocate, forge-catch-up, forge-requests, forge-view-change, replay, silent, tamper-view-change, twins, usurp-primary, wrong-digest, wrong-new-view, wrong-results)`},
		{"nodes: 4\nprotocol_options: {log_window: 20}\n",
			"p.yaml:4:32: protocol_options.log_window: pbft: log_window 20 must be a multiple of checkpoint_interval 16, at least twice it"},
		{"nodes: 4\nprotocol_options: {bugs: [quorum-3f]}\n",
			`p.yaml:4:27: protocol_options.bugs[0]: pbft: unknown bug "quorum-3f" (did you mean quorum-2f?)`},
	} {
		sc, err := scenarios.Parse("p.yaml", []byte(head+c.body))
		require.NoError(t, err)
		proto, err := registry.Resolve(sc)
		require.NoError(t, err)
		_, err = runner.Run(sc, proto, runner.Options{Seed: 1})
		require.EqualError(t, err, c.want)
	}
}

// TestPBFTClientsNeedFPlusOneReplies: the registry asks clients for f+1
// matching replies and broadcast retries, and for one reply with the
// client-first-reply bug.
func TestPBFTClientsNeedFPlusOneReplies(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "pbft-byz-wrong-results-n7.yaml"))
	require.NoError(t, err)
	sc, err := scenarios.Parse("w.yaml", data)
	require.NoError(t, err)
	proto, _ := registry.Resolve(sc)
	servers, err := proto.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV})
	require.NoError(t, err)
	require.Equal(t, 3, servers.ReplyQuorum)
	require.True(t, servers.BroadcastRetry)

	sc.ProtocolOptions = map[string]any{"bugs": []any{"client-first-reply"}}
	servers, err = proto.Build(runner.Cluster{Scenario: sc, NewStateMachine: workload.NewKV})
	require.NoError(t, err)
	require.Equal(t, 1, servers.ReplyQuorum)
}

// TestPBFTReplicaBehindAStableCheckpointCatchesUp is a regression test from a
// 1,000-seed sweep: on a lossy network a replica collected a stable
// checkpoint before it executed that far, cut its log there, and could use
// none of the commit certificates its peers sent; it stayed behind for good
// and the liveness phase failed. The seed replays that situation as long as
// the protocol and kernel behave as when it was found.
func TestPBFTReplicaBehindAStableCheckpointCatchesUp(t *testing.T) {
	for _, c := range []struct {
		file string
		seed uint64
	}{
		{"pbft-lossy.yaml", 854},
		// the state transfer of a replica whose stable checkpoint was
		// learned ahead of its execution (the first fix broke it)
		{"pbft-byz-conflicting-votes-n4.yaml", 196},
	} {
		sc, proto := load(t, c.file, 0)
		rep := runSeed(t, sc, proto, c.seed)
		require.Equal(t, runner.Pass, rep.Class, "%s seed %d: %s", c.file, c.seed, rep.Reason)
	}
}

// TestStableLeaderExcusesAViewChangeACorrectReplicaAskedFor: the pinned
// run leaves a correct replica asking for a later view when the faults
// heal; the view change it gets in the quiet window is excused, and said
// to be.
func TestStableLeaderExcusesAViewChangeACorrectReplicaAskedFor(t *testing.T) {
	rep := runPinned(t, "pbft-left-in-a-view-change.yaml")
	var detail string
	for _, c := range rep.Checks {
		if c.Name == "stable-leader" {
			detail = c.Detail
		}
	}
	require.Contains(t, detail, "its election was excused: n1 had asked for term")
}

// TestPBFTRestartedReplicasDoNotRunAhead: the regression scenario of a
// liveness bug (restarted replicas stayed one view ahead of the others for
// good) converges on every seed; before the fix 63 of its first 200 seeds,
// seed 1 among them, were liveness violations.
func TestPBFTRestartedReplicasDoNotRunAhead(t *testing.T) {
	sc, proto := load(t, "pbft-silent-n7-restarts.yaml", 0)
	requirePasses(t, sc, proto, 30)
}

// TestPBFTChangesViewForImpatientClients: clients that give up before the
// view-change timer runs out still get a crashed primary replaced. A backup
// used to restart its wait at each newer request of a client, so with calls
// timing out after 300ms against a 400ms timer no view ever changed, and
// every seed of this scenario failed progress.
func TestPBFTChangesViewForImpatientClients(t *testing.T) {
	sc, proto := load(t, "pbft-impatient-clients.yaml", 0)
	requirePasses(t, sc, proto, seedCount(10, 3))
}

// TestLivenessAllowsForTheProtocolsBackoff: a liveness bound shorter than
// PBFT's capped view-change wait is stretched to two such waits, so a
// cluster that is merely backing off after its primary crashed is not
// reported stuck (with the bound as written, 2 of these 20 seeds were).
func TestLivenessAllowsForTheProtocolsBackoff(t *testing.T) {
	sc, err := scenarios.Parse("short-within.yaml", []byte(`protocol: pbft
nodes: 4
duration: 3s
network: {latency: {min: 1ms, max: 2ms}}
workload: {clients: 2, keys: 2, think_time: 20ms, timeout: 1s, retry_interval: 100ms}
faults:
  - {from: 500ms, to: 3s, every: 400ms, crash: leader, down: 300ms, max_down: 1}
checks: [agreement, liveness]
liveness: {within: 50ms}
`))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	requirePasses(t, sc, proto, 20)
}

// TestPBFTRestartMidViewChangeStillAnnouncesLeadership: a replica that
// restarted while changing to the view it then leads announces its
// leadership (it once believed it had announced it before the restart, so a
// swarm run's one-leader-per-term check had nothing to judge: vacuous).
func TestPBFTRestartMidViewChangeStillAnnouncesLeadership(t *testing.T) {
	sc, proto := load(t, "pbft-byz-silent-n4.yaml", 0)
	sc.Swarm = []string{"all"}
	rep := runSeed(t, sc, proto, 7)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
	require.Positive(t, rep.Announced.Leaders)
}

// TestPBFTRestartedPrimaryHandsOnItsNewView: a replica left in an older
// view catches up only from the new-view message of the current one, which
// a primary that restarted in its view must still hold: it is kept on disk.
// Before, this swarm seed (f Byzantine, a partitioned backup, the primary
// restarting) left three correct replicas in three views for good.
func TestPBFTRestartedPrimaryHandsOnItsNewView(t *testing.T) {
	sc, proto := load(t, "pbft-byz-crash-n4.yaml", 0)
	sc.Swarm = []string{"all"}
	rep := runSeed(t, sc, proto, 35)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
}

// TestPBFTCatchesUpPastAFullWindow: a replica that executed to the top of
// its window while cut off from the checkpoint votes that would move it
// catches up once healed: a peer answers its status with the stable
// checkpoint's state, whose proof it adopts. The pinned run stayed behind
// for good before.
func TestPBFTCatchesUpPastAFullWindow(t *testing.T) {
	rep := runPinned(t, "pbft-full-window.yaml")
	require.Positive(t, rep.Probes[pbft.ProbeStateStableAdopted], "the run no longer reaches a full window: pin another")
}

// TestProgressAsksPBFTForAQuorum: four of seven PBFT replicas are a
// majority but no quorum (2f+1 = 5): they rightly commit nothing while the
// other three are cut off, and progress does not count them as a cluster
// that should. It did, and reported every seed of this split as stuck.
func TestProgressAsksPBFTForAQuorum(t *testing.T) {
	sc, proto := parsed(t, "pbft-split.yaml", `protocol: pbft
nodes: 7
duration: 12s
network: {latency: {min: 1ms, max: 5ms}}
workload: {clients: 4, keys: 8, think_time: 10ms, timeout: 1s, retry_interval: 100ms}
faults:
  - {at: 2s, partition: {groups: [[0, 1, 2], [3, 4, 5, 6]]}, for: 7s}
checks: [linearizable, agreement, one-leader-per-term, liveness, progress]
protocol_options: {request_timeout: 300ms}
`)
	requirePasses(t, sc, proto, 2)
}
