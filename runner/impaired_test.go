package runner_test

import "testing"

// TestProgressExcusesAStallOnEntriesOnlyDownServersHold: n2 and n4 fall
// behind while n0, n1 and n3 commit; n0 and n1 then go down for 6s, and
// n3 restarts with a corrupted log. n3 votes only for a log holding the
// entries it may have acknowledged, which n2 and n4 lack, so no leader can
// be elected among the three servers up until n0 or n1 returns: correct
// Raft, which the progress check reported as a stall of a healthy majority
// in seeds 1, 2, 3 and 5 before it left impaired servers (sim.ObsImpaired)
// out of a majority with no leader to repair them.
func TestProgressExcusesAStallOnEntriesOnlyDownServersHold(t *testing.T) {
	sc, proto := parsed(t, "impaired-stall.yaml", `protocol: raft
nodes: 5
duration: 10s
network:
  latency: {min: 1ms, max: 5ms}
workload: {clients: 2, keys: 4, think_time: 5ms}
faults:
  - {at: 1s, transfer: 0}
  - {at: 1500ms, partition: {groups: [[0, 1, 3], [2], [4]]}, for: 1500ms}
  - {at: 2900ms, crash: 0, down: 6s}
  - {at: 2900ms, crash: 1, down: 6s}
  - {at: 2900ms, crash: 3, down: 200ms}
  - {at: 3s, corrupt: 3}
checks: [linearizable, agreement, one-leader-per-term, progress]
`)
	requirePasses(t, sc, proto, 5)
}
