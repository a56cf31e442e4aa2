package runner_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/protocols/raft"
	"github.com/simrun/simrun/registry"
	"github.com/simrun/simrun/runner"
	"github.com/simrun/simrun/scenarios"
)

// A protocol that does not promise to step a cut-off leader down cannot
// list isolated-leader: the scenario is refused, naming the check and the
// key that would make the promise.
func TestIsolatedLeaderNeedsAPromise(t *testing.T) {
	for _, src := range []string{
		"protocol: raft\nnodes: 3\nduration: 1s\nchecks: [agreement, isolated-leader]\n",
		"protocol: paxos\nnodes: 3\nduration: 1s\nchecks: [agreement, isolated-leader]\n",
	} {
		sc, err := scenarios.Parse("no-promise.yaml", []byte(src))
		require.NoError(t, err)
		proto, err := registry.Resolve(sc)
		require.NoError(t, err)
		_, err = runner.Run(sc, proto, runner.Options{Seed: 1})
		require.ErrorContains(t, err, "isolated-leader needs a protocol that steps a leader cut off from a majority down, and "+sc.Protocol+" as configured does not")
	}
}

// With check-quorum and no fault that cuts a leader off, the check judged
// nothing: the run is vacuous, not a pass. Isolating the leader gives it
// something to judge, and the correct protocol passes.
func TestIsolatedLeaderJudgesOnlyWhatIsCutOff(t *testing.T) {
	calm := "protocol: raft\nnodes: 3\nduration: 3s\ndrain: 1s\nprotocol_options: {check_quorum: true}\nchecks: [agreement, isolated-leader]\n"
	sc, err := scenarios.Parse("calm.yaml", []byte(calm))
	require.NoError(t, err)
	proto, err := registry.Resolve(sc)
	require.NoError(t, err)
	rep := runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Vacuous, rep.Class)
	require.Contains(t, rep.Reason, "isolated-leader judged nothing: no leader was cut off from a majority")

	sc, err = scenarios.Parse("isolated.yaml", []byte(calm+"faults:\n  - {at: 1s, partition: isolate-leader, for: 1500ms}\n"))
	require.NoError(t, err)
	rep = runSeed(t, sc, proto, 1)
	require.Equal(t, runner.Pass, rep.Class, rep.Reason)
}

// TestCheckQuorumCountsAnswersOnly: a leader whose outbound links to two of
// five servers are cut (a third down) hears their pre-vote requests, which
// are no answer: it steps down within the bound, and the isolated-leader
// check judged it. It led for the whole cut when any message counted.
func TestCheckQuorumCountsAnswersOnly(t *testing.T) {
	rep := runPinned(t, "raft-one-way-cut.yaml")
	require.Positive(t, rep.Probes[raft.ProbeCheckQuorumStepDown], "the pinned run no longer cuts the leader off: pin another")
}

// TestIsolatedLeaderSeesThroughSlowSyncs: a leader on slow disks stalls a
// little at every sync, and a cut-off one that clients keep writing to
// syncs all the time. The time it is held is left out of its count rather
// than restarting it, so check-quorum-on-send is still caught, and the
// correct check-quorum still passes.
func TestIsolatedLeaderSeesThroughSlowSyncs(t *testing.T) {
	src := `protocol: raft
nodes: 3
duration: 8s
drain: 1s
workload: {clients: 16, timeout: 60ms, think_time: 1ms}
faults:
  - {at: 0s, disk: {node: 0, sync_latency: {min: 1ms, max: 2ms}}}
  - {at: 0s, disk: {node: 1, sync_latency: {min: 1ms, max: 2ms}}}
  - {at: 0s, disk: {node: 2, sync_latency: {min: 1ms, max: 2ms}}}
  - {at: 2s, partition: isolate-leader, for: 4s}
checks: [agreement, one-leader-per-term, isolated-leader]
protocol_options:
  check_quorum: true
`
	requireCheckQuorumOnSendCaught(t, src)
}

// requireCheckQuorumOnSendCaught runs seed 1 of the scenario written in src
// (whose protocol_options come last) twice: the correct check-quorum passes,
// and with check-quorum-on-send the isolated-leader check catches the
// leader that stays.
func requireCheckQuorumOnSendCaught(t *testing.T, src string) {
	t.Helper()
	for _, bugs := range []string{"", "  bugs: [check-quorum-on-send]\n"} {
		sc, err := scenarios.Parse(t.Name()+".yaml", []byte(src+bugs))
		require.NoError(t, err)
		proto, err := registry.Resolve(sc)
		require.NoError(t, err)
		rep := runSeed(t, sc, proto, 1)
		if bugs == "" {
			require.Equal(t, runner.Pass, rep.Class, rep.Reason)
		} else {
			require.Equal(t, runner.Liveness, rep.Class, rep.Reason)
			require.Contains(t, rep.Reason, "isolated-leader violated")
		}
	}
}

// TestIsolatedLeaderCountsInboundCuts: a leader whose followers' messages
// to it are cut (its own still reach them) hears no majority: it is cut off
// as much as one that cannot send. The check judges it, so a leader that
// counts its sends (check-quorum-on-send) is caught; the correct one steps
// down. Seed 1 elects n3, the server the cuts aim at.
func TestIsolatedLeaderCountsInboundCuts(t *testing.T) {
	src := `protocol: raft
nodes: 5
duration: 6s
drain: 1s
network:
  latency: {min: 1ms, max: 5ms}
faults:
  - {at: 2s, crash: 2, down: 3s}
  - {at: 2s, cut: {from: 0, to: 3}, for: 3s}
  - {at: 2s, cut: {from: 1, to: 3}, for: 3s}
checks: [agreement, one-leader-per-term, isolated-leader]
protocol_options:
  check_quorum: true
`
	requireCheckQuorumOnSendCaught(t, src)
}

// TestIsolatedLeaderCountsLateAnswers: answers sent before three of five
// servers crashed, delayed on the way by a long-tailed network, reach the
// leader after the crash; it rightly counts them (it heard from a majority
// within an election timeout) and leads a little longer. The check counts
// them too: it reported seeds 3, 4, 5 and 7 of these (14 of 60) as a leader
// that did not step down in time.
func TestIsolatedLeaderCountsLateAnswers(t *testing.T) {
	sc, proto := parsed(t, "late-answers.yaml", `protocol: raft
nodes: 5
duration: 6s
network:
  latency: {min: 1ms, max: 5ms}
  tail: {probability: 0.1, mean: 250ms}
workload: {clients: 2, keys: 4, think_time: 10ms}
faults:
  - {at: 1s, transfer: 0}
  - {at: 3s, crash: 1, down: 2s}
  - {at: 3s, crash: 2, down: 2s}
  - {at: 3s, crash: 3, down: 2s}
checks: [linearizable, agreement, one-leader-per-term, isolated-leader]
protocol_options: {check_quorum: true, heartbeat_interval: 50ms, election_timeout_min: 300ms, election_timeout_max: 600ms}
`)
	requirePasses(t, sc, proto, 7)
}

// TestIsolatedLeaderCountsLateAnswersOverAOneWayCut: the leader's links to
// both followers are cut one way while n1's answers to it crawl (300-400ms):
// the answers n1 sent before the cut arrive after it, and the leader
// rightly counts them and leads a little longer. The check counts a message
// that arrives while the two cannot reach each other only if it was sent
// while they could: it reported seeds 2, 3 and 9 of these (10 of 40) as a
// leader that did not step down in time, as a swarm sweep of
// raft-checkquorum-one-way did. A message sent on the open way after the
// cut (a pre-vote request) still counts for nothing: its sender hears
// nothing from the leader.
func TestIsolatedLeaderCountsLateAnswersOverAOneWayCut(t *testing.T) {
	sc, proto := preVoteCheckQuorum(t, "one-way-late.yaml", 3, `  - {at: 1s, transfer: 0}
  - {at: 2900ms, link: {from: 1, to: 0, latency: {min: 300ms, max: 400ms}}, for: 2s}
  - {at: 3s, cut: {from: 0, to: 1}, for: 1500ms}
  - {at: 3s, cut: {from: 0, to: 2}, for: 1500ms}
  - {at: 3s, partition: {groups: [[1], [2]]}, for: 1500ms}
`)
	requirePasses(t, sc, proto, 9)
}

// TestIsolatedLeaderCountsAnswersOfAFollowerHeldBySlowSyncs: n1's disk
// syncs slowly, so the appends the leader sent before its links to both
// followers were cut one way wait in n1's backlog, and n1 answers each
// after the cut, in the step that takes it: the leader rightly counts those
// answers and leads a little longer. The check counts a message sent on
// the open way after the cut only if it answers, in the same step, one the
// leader sent while they could reach each other: it reported seed 11500022
// of a swarm sweep of raft-checkquorum-one-way as a leader that did not
// step down in time.
func TestIsolatedLeaderCountsAnswersOfAFollowerHeldBySlowSyncs(t *testing.T) {
	sc, proto := preVoteCheckQuorum(t, "slow-follower.yaml", 3, `  - {at: 1s, transfer: 0}
  - {at: 2500ms, disk: {node: 1, sync_latency: {min: 40ms, max: 60ms}}, for: 2s}
  - {at: 3s, cut: {from: 0, to: 1}, for: 1500ms}
  - {at: 3s, cut: {from: 0, to: 2}, for: 1500ms}
  - {at: 3s, partition: {groups: [[1], [2]]}, for: 1500ms}
`)
	requirePasses(t, sc, proto, 10)
}

// TestIsolatedLeaderCountsServersReachedWithinTheQuorumWindow: in a ring the
// leader reaches only n1 and n4, which crash in turn, each back before the
// other goes: at no instant does it reach a majority, but within every
// election timeout it hears from one, as check-quorum asks (thesis §6.2),
// and it rightly leads on. The check counts a server reached within the
// protocol's quorum window (runner.Servers.QuorumWindow): it reported seed
// 1 of these as a leader that did not step down in time, as a swarm sweep
// of raft-prevote-checkquorum did. The leader isolated at the end must
// still step down, and the check judges that.
func TestIsolatedLeaderCountsServersReachedWithinTheQuorumWindow(t *testing.T) {
	faults := ""
	for i := range 10 {
		faults += fmt.Sprintf("  - {at: %dms, crash: %d, down: 250ms}\n", 2000+200*i, []int{1, 4}[i%2])
	}
	sc, proto := preVoteCheckQuorum(t, "alternating-neighbours.yaml", 5, `  - {at: 1s, transfer: 0}
  - {at: 2s, partition: ring, for: 2500ms}
  - {at: 4500ms, partition: isolate-leader, for: 1s}
`+faults)
	requirePasses(t, sc, proto, 3)
}

// preVoteCheckQuorum parses a six-second Raft scenario of nodes servers with
// pre-vote and check-quorum, 1-5ms links and two clients, judged for safety,
// stale-leader and isolated-leader, with faults, a YAML list.
func preVoteCheckQuorum(t *testing.T, name string, nodes int, faults string) (*scenarios.Scenario, runner.Protocol) {
	return parsed(t, name, fmt.Sprintf(`protocol: raft
nodes: %d
duration: 6s
network:
  latency: {min: 1ms, max: 5ms}
workload: {clients: 2, keys: 4, think_time: 10ms, timeout: 1s, retry_interval: 100ms}
checks: [linearizable, agreement, one-leader-per-term, stale-leader, isolated-leader]
protocol_options: {pre_vote: true, check_quorum: true}
faults:
%s`, nodes, faults))
}
