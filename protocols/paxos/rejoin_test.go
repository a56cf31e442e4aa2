package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// A server that finds an accepted proposal corrupt keeps serving, reports
// the slot as lost in its promises, and repairs it by learning the value.
func TestLostRecordIsReportedAndRepaired(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 3)
	tn.crash(2)
	flip(tn.envs[2].disk, slotKey(2))
	tn.start(2)
	n := tn.nodes[2]
	require.False(t, n.rejoining)
	require.Equal(t, 1, n.lostSlots)
	assert.Equal(t, uint64(1), n.commit, "slot 2 is no longer known")

	tn.do(2, func(n *node) {
		assert.Equal(t, []uint64{2}, n.promiseFor(MsgPrepare{Ballot: 100, From: 1}).Lost)
	})

	// A restart remembers the loss.
	tn.crash(2)
	tn.start(2)
	require.Equal(t, 1, tn.nodes[2].lostSlots)

	tn.fire(0, timerHeartbeat)
	tn.deliver()
	n = tn.nodes[2]
	assert.Zero(t, n.lostSlots)
	assert.Equal(t, uint64(3), n.commit)
	assert.False(t, tn.agreementViolated())
}

// A proposer needs, for every slot a promiser lost, a majority of promisers
// that can report on it.
func TestPhase1NeedsAMajorityThatKnowsEachSlot(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.writePromise(0, 4)
	tn.writePromise(1, 4)
	tn.envs[1].disk.Put(slotKey(1), encodeRecord(&record{lost: true}))
	tn.envs[1].disk.Sync()
	tn.startAll()
	tn.campaign(0)
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 1 })[0])
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 0 })[0])
	n := tn.nodes[0]
	assert.Equal(t, roleProposer, n.role, "server 1 cannot say what it accepted in slot 1")
	tn.deliver()
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, uint64(1), n.commit, "slot 1 filled with a no-op")
	assert.Zero(t, tn.nodes[1].lostSlots, "accepting the no-op repaired server 1's record")
}

// A server that lost its promise (both copies) neither promises nor accepts
// until it leads a ballot that a majority of the others promised.
func TestServerWithALostPromiseRejoinsThroughTheOthers(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 3)
	tn.crash(2)
	flip(tn.envs[2].disk, promiseKeyA)
	flip(tn.envs[2].disk, promiseKeyB)
	tn.start(2)
	n := tn.nodes[2]
	require.True(t, n.rejoining)
	_, marked := tn.envs[2].disk.Get(rejoinKey)
	require.True(t, marked)

	// It answers neither phase 1 nor phase 2, and follows no leader.
	tn.queue = nil
	n.Receive(tn.envs[2], 0, MsgPrepare{Ballot: 9, From: 1})
	n.Receive(tn.envs[2], 0, MsgAccept{Ballot: tn.nodes[0].ballot, Slot: 5, Cmds: []service.Command{cmd(9, 1, "add b")}})
	assert.Empty(t, tn.queue)
	heard := n.heardAt
	tn.now = tn.now.Add(1)
	n.Receive(tn.envs[2], 0, MsgHeartbeat{Ballot: tn.nodes[0].ballot, Commit: 3})
	assert.Equal(t, heard, n.heardAt, "a heartbeat does not hold its failure detector off")
	tn.deliver()

	// A restart does not end the rejoin.
	tn.crash(2)
	tn.start(2)
	require.True(t, tn.nodes[2].rejoining)

	// Its failure detector fires: phase 1, counting only the others.
	tn.fire(2, timerLeader)
	prepares := tn.take(func(e envelope) bool { _, ok := e.msg.(MsgPrepare); return ok })
	require.Len(t, prepares, 2, "to both others, not to itself")
	for _, e := range prepares {
		assert.True(t, e.msg.(MsgPrepare).Rejoin)
	}
	tn.deliverOne(prepares[0])
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 2 })[0])
	n = tn.nodes[2]
	assert.Equal(t, roleProposer, n.role, "one other's promise is not enough")
	tn.deliverOne(prepares[1])
	tn.deliver()
	require.Equal(t, roleLeader, n.role)
	assert.False(t, n.rejoining)
	_, marked = tn.envs[2].disk.Get(rejoinKey)
	assert.False(t, marked)
	assert.Equal(t, uint64(3), n.commit)
	assert.False(t, tn.agreementViolated())

	tn.request(10, 2, 4, "add a")
	tn.deliver()
	assert.Equal(t, "4", string(tn.replies[len(tn.replies)-1].Result))
}

// A Rejoin prepare of the ballot an acceptor promised is refused: the
// rejoining server may have used that ballot before and forgotten it.
func TestRejoinPrepareNeedsAFreshBallot(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.writePromise(0, 5)
	tn.start(0)
	tn.nodes[0].Receive(tn.envs[0], 2, MsgPrepare{Ballot: 5, From: 1, Rejoin: true})
	assert.Equal(t, MsgNack{Ballot: 5, Promised: 5}, only(t, tn).msg)
	tn.nodes[0].Receive(tn.envs[0], 2, MsgPrepare{Ballot: 5, From: 1})
	assert.Equal(t, MsgPromise{Ballot: 5}, only(t, tn).msg, "an ordinary retry is promised again")
	tn.nodes[0].Receive(tn.envs[0], 2, MsgPrepare{Ballot: 8, From: 1, Rejoin: true})
	assert.Equal(t, MsgPromise{Ballot: 8}, only(t, tn).msg)
}

// One corrupt copy of the promise costs nothing: the other serves.
func TestOneCorruptPromiseCopyIsNoLoss(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.writePromise(0, 5)
	flip(tn.envs[0].disk, promiseKeyB)
	tn.start(0)
	assert.False(t, tn.nodes[0].rejoining)
	assert.Equal(t, uint64(5), tn.nodes[0].promise)
}

// A one-server cluster has no one to rejoin through: it carries on.
func TestSingleServerDoesNotRejoin(t *testing.T) {
	tn := newTestNet(t, 1, testConfig())
	tn.writeRecord(0, 1, 1, false, cmd(9, 1, "add a"))
	flip(tn.envs[0].disk, slotKey(1))
	tn.start(0)
	assert.False(t, tn.nodes[0].rejoining)
	tn.campaign(0)
	assert.Equal(t, roleLeader, tn.nodes[0].role)
	for _, o := range tn.obs {
		assert.NotEqual(t, sim.ObsNote, o.Kind)
	}
}
