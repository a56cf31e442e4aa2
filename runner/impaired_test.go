package runner_test

import (
	"fmt"
	"testing"
)

// TestProgressExcusesAStallOnEntriesOnlyDownServersHold: n2 and n4 fall
// behind while n0, n1 and n3 commit; two of those go down for 6s and the
// third restarts with a corrupted log: a follower (n3), or the leader (n0).
// It votes only for a log holding the entries it may have acknowledged,
// which n2 and n4 lack, and does not campaign, so no leader can be elected
// among the three servers up until one of the others returns: correct
// Raft, which the progress check reported as a stall of a healthy majority
// (seeds 1, 2, 3 and 5 of each) before it left impaired servers
// (sim.ObsImpaired) out of a majority with no leader to repair them, and
// counted an impaired leader as none.
func TestProgressExcusesAStallOnEntriesOnlyDownServersHold(t *testing.T) {
	for _, damaged := range []int{3, 0} {
		down := []int{0, 1}
		if damaged == 0 {
			down = []int{3, 1}
		}
		sc, proto := parsed(t, "impaired-stall.yaml", fmt.Sprintf(`protocol: raft
nodes: 5
duration: 10s
network:
  latency: {min: 1ms, max: 5ms}
workload: {clients: 2, keys: 4, think_time: 5ms}
faults:
  - {at: 1s, transfer: 0}
  - {at: 1500ms, partition: {groups: [[0, 1, 3], [2], [4]]}, for: 1500ms}
  - {at: 2900ms, crash: %d, down: 6s}
  - {at: 2900ms, crash: %d, down: 6s}
  - {at: 2900ms, crash: %d, down: 200ms}
  - {at: 3s, corrupt: %d}
checks: [linearizable, agreement, one-leader-per-term, progress]
`, down[0], down[1], damaged, damaged))
		requirePasses(t, sc, proto, 5)
	}
}
