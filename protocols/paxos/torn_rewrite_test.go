package paxos

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
)

// A crash that tears the rewrite of a slot whose record is synced leaves the
// synced version: the acceptor answered with it, so it must not forget it.
// (TestTornSlotWriteKeepsTheVersionBefore tears a write whose predecessor a
// torn crash always took too, so it never sees a synced version rewritten.)
func TestTornRewriteKeepsTheSyncedVersion(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.Start(0)
	tn.TearWrites(0)
	for round := range 40 {
		synced, next := uint64(10+2*round), uint64(11+2*round)
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			r := n.ensure(1)
			r.ballot, r.cmd = synced, cmd(7, synced, "add a")
			n.writeRecord(1, r)
			n.flush()
			tn.Disk(0).Sync() // the lazy deletes too: only the rewrite below is pending
		})
		tn.Within(0, func(n *node, env *prototest.Env) {
			n.env = env
			r := n.ensure(1)
			r.ballot, r.cmd = next, cmd(7, next, "add a")
			n.writeRecord(1, r)
		})
		tn.Restart(0)
		got := ballotOf(tn.Node(0).rec(1))
		require.Contains(t, []uint64{synced, next}, got, "round %d: the synced acceptance (ballot %d) is gone", round, synced)
	}
}
