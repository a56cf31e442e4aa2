package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/sim"
)

// Leadership transfer (transferLeadership in membership.go): the leader
// hands over to the operator's target, which catches up and preempts it.

// transfer asks server id to hand its leadership to server to.
func transfer(tn *testNet, id, to sim.NodeID) {
	tn.Within(id, func(n *node, env *prototest.Env) { n.Operate(env, sim.TransferLeadership{To: to}) })
}

// The target of a transfer runs phase 1 at once with a higher ballot; the
// old leader, preempted, follows it, and clients are served through the
// new leader.
func TestTransferElectsTheTarget(t *testing.T) {
	tn := leaderWith(t, 5, testConfig())
	addMany(tn, 1, 3)
	ballot := tn.Node(0).ballot
	transfer(tn, 0, 2)
	handOver := tn.Take(func(e envelope) bool { _, ok := e.Msg.(MsgHandOver); return ok })
	require.Len(t, handOver, 1)
	assert.Equal(t, sim.NodeID(2), handOver[0].To)
	assert.Equal(t, MsgHandOver{Ballot: ballot, Commit: tn.Node(0).commit}, handOver[0].Msg)
	assert.Equal(t, roleLeader, tn.Node(0).role, "the leader leads until it is preempted")

	tn.Queue = append(tn.Queue, handOver...)
	tn.Stabilize()
	assert.Equal(t, roleLeader, tn.Node(2).role)
	assert.Greater(t, tn.Node(2).ballot, ballot)
	assert.Equal(t, roleFollower, tn.Node(0).role)
	add(tn, 2, 4)
	assert.Equal(t, "4", lastResult(tn), "every add chosen before the transfer counts, once")
	tn.RequireSafe(t)
}

// A target behind the leader learns every slot the leader knew chosen
// before it campaigns: a learn answers a few slots (MaxSlotsPerMessage),
// and the leader's heartbeats prompt the next.
func TestTransferTargetCatchesUpFirst(t *testing.T) {
	tn := leaderWith(t, 5, testConfig())
	crash(tn, 4)
	addMany(tn, 1, 7)
	tn.Restart(4)
	tn.Stabilize()
	commit := tn.Node(0).commit
	require.Less(t, tn.Node(4).commit+uint64(testConfig().MaxSlotsPerMessage), commit, "n4 missed more than one learn brings")
	transfer(tn, 0, 4)
	for heartbeats := 0; tn.Node(4).role == roleFollower; {
		if !tn.Step() {
			require.Less(t, heartbeats, 5, "n4 never campaigned")
			tn.Fire(0, timerHeartbeat)
			heartbeats++
		}
	}
	require.GreaterOrEqual(t, tn.Node(4).commit, commit, "n4 campaigned before it caught up")
	tn.Stabilize()
	assert.Equal(t, roleLeader, tn.Node(4).role)
	assert.GreaterOrEqual(t, tn.Node(4).commit, commit)
	add(tn, 4, 8)
	assert.Equal(t, "8", lastResult(tn))
	tn.RequireSafe(t)
}

// A request to a follower, to the leader itself or to a spare outside the
// configuration is ignored: no hand-over leaves, and the leader stays.
func TestTransferIgnored(t *testing.T) {
	tn := membershipNet(t) // n0-n2 members, n3 and n4 spares, n0 leads
	for _, c := range []struct{ at, to sim.NodeID }{{1, 2}, {0, 0}, {0, 3}} {
		transfer(tn, c.at, c.to)
		assert.Empty(t, tn.Take(func(e envelope) bool { _, ok := e.Msg.(MsgHandOver); return ok }), "%+v", c)
		tn.Stabilize()
		assert.Equal(t, roleLeader, tn.Node(0).role, "%+v", c)
	}
}
