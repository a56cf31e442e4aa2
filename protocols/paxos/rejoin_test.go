package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// A server that finds an accepted proposal corrupt keeps serving, reports
// the slot as lost in its promises, and repairs it by learning the value.
func TestLostRecordIsReportedAndRepaired(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 3)
	crash(tn, 2)
	prototest.FlipBit(t, tn.Disk(2), slotKey(2, 1))
	tn.Start(2)
	n := tn.Node(2)
	require.False(t, n.rejoining)
	require.Equal(t, 1, n.lostSlots)
	assert.Equal(t, uint64(1), n.commit, "slot 2 is no longer known")

	tn.Do(2, func(n *node) {
		assert.Equal(t, []uint64{2}, n.promiseFor(MsgPrepare{Ballot: 100, From: 1}).Lost)
	})

	// A restart remembers the loss.
	crash(tn, 2)
	tn.Start(2)
	require.Equal(t, 1, tn.Node(2).lostSlots)

	tn.Fire(0, timerHeartbeat)
	tn.Stabilize()
	n = tn.Node(2)
	assert.Zero(t, n.lostSlots)
	assert.Equal(t, uint64(3), n.commit)
	tn.RequireSafe(t)
}

// A proposer needs, for every slot a promiser lost, a majority of promisers
// that can report on it.
func TestPhase1NeedsAMajorityThatKnowsEachSlot(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 4)
	writePromise(tn, 1, 4)
	tn.Disk(1).Put(slotKey(1, 1), encodeRecord(&record{lost: true}))
	tn.Disk(1).Sync()
	tn.StartAll()
	campaign(tn, 0)
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 1 })[0])
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 0 })[0])
	n := tn.Node(0)
	assert.Equal(t, roleProposer, n.role, "server 1 cannot say what it accepted in slot 1")
	tn.Stabilize()
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, uint64(1), n.commit, "slot 1 filled with a no-op")
	assert.Zero(t, tn.Node(1).lostSlots, "accepting the no-op repaired server 1's record")
}

// A server that lost its promise (both copies) neither promises nor accepts
// until it leads a ballot that a majority of the others promised.
func TestServerWithALostPromiseRejoinsThroughTheOthers(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	addMany(tn, 1, 3)
	crash(tn, 2)
	prototest.FlipBit(t, tn.Disk(2), promiseKeyA)
	prototest.FlipBit(t, tn.Disk(2), promiseKeyB)
	tn.Start(2)
	n := tn.Node(2)
	require.True(t, n.rejoining)
	_, marked := tn.Disk(2).Get(rejoinKey)
	require.True(t, marked)

	// It answers neither phase 1 nor phase 2, and follows no leader.
	tn.Queue = nil
	n.Receive(tn.Env(2), 0, MsgPrepare{Ballot: 9, From: 1})
	n.Receive(tn.Env(2), 0, MsgAccept{Ballot: tn.Node(0).ballot, Slot: 5, Cmds: []service.Command{cmd(9, 1, "add b")}})
	assert.Empty(t, tn.Queue)
	heard := n.heardAt
	tn.Now = tn.Now.Add(1)
	n.Receive(tn.Env(2), 0, MsgHeartbeat{Ballot: tn.Node(0).ballot, Commit: 3})
	assert.Equal(t, heard, n.heardAt, "a heartbeat does not hold its failure detector off")
	tn.Stabilize()

	// A restart does not end the rejoin.
	crash(tn, 2)
	tn.Start(2)
	require.True(t, tn.Node(2).rejoining)

	// Its failure detector fires: phase 1, counting only the others.
	tn.Fire(2, timerLeader)
	prepares := tn.Take(func(e envelope) bool { _, ok := e.Msg.(MsgPrepare); return ok })
	require.Len(t, prepares, 2, "to both others, not to itself")
	for _, e := range prepares {
		assert.True(t, e.Msg.(MsgPrepare).Rejoin)
	}
	tn.DeliverOne(prepares[0])
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 2 })[0])
	n = tn.Node(2)
	assert.Equal(t, roleProposer, n.role, "one other's promise is not enough")
	tn.DeliverOne(prepares[1])
	tn.Stabilize()
	require.Equal(t, roleLeader, n.role)
	assert.False(t, n.rejoining)
	_, marked = tn.Disk(2).Get(rejoinKey)
	assert.False(t, marked)
	assert.Equal(t, uint64(3), n.commit)
	tn.RequireSafe(t)

	add(tn, 2, 4)
	assert.Equal(t, "4", lastResult(tn))
}

// A Rejoin prepare of the ballot an acceptor promised is refused: the
// rejoining server may have used that ballot before and forgotten it.
func TestRejoinPrepareNeedsAFreshBallot(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 5)
	tn.Start(0)
	tn.Node(0).Receive(tn.Env(0), 2, MsgPrepare{Ballot: 5, From: 1, Rejoin: true})
	assert.Equal(t, MsgNack{Ballot: 5, Promised: 5}, only(t, tn).Msg)
	tn.Node(0).Receive(tn.Env(0), 2, MsgPrepare{Ballot: 5, From: 1})
	assert.Equal(t, MsgPromise{Ballot: 5}, only(t, tn).Msg, "an ordinary retry is promised again")
	tn.Node(0).Receive(tn.Env(0), 2, MsgPrepare{Ballot: 8, From: 1, Rejoin: true})
	assert.Equal(t, MsgPromise{Ballot: 8}, only(t, tn).Msg)
}

// One corrupt copy of the promise costs nothing: the other serves.
func TestOneCorruptPromiseCopyIsNoLoss(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 5)
	prototest.FlipBit(t, tn.Disk(0), promiseKeyB)
	tn.Start(0)
	assert.False(t, tn.Node(0).rejoining)
	assert.Equal(t, uint64(5), tn.Node(0).promise)
}

// A one-server cluster has no one to rejoin through: it carries on.
func TestSingleServerDoesNotRejoin(t *testing.T) {
	tn := newTestNet(t, 1, testConfig())
	writeRecord(tn, 0, 1, 1, false, cmd(9, 1, "add a"))
	prototest.FlipBit(t, tn.Disk(0), slotKey(1, 1))
	tn.Start(0)
	assert.False(t, tn.Node(0).rejoining)
	campaign(tn, 0)
	assert.Equal(t, roleLeader, tn.Node(0).role)
	for _, o := range tn.Obs {
		assert.NotEqual(t, sim.ObsNote, o.Kind)
	}

	// A lost promise too: the marker the load wrote goes, and a restart
	// does not rejoin either.
	crash(tn, 0)
	prototest.FlipBit(t, tn.Disk(0), promiseKeyA)
	prototest.FlipBit(t, tn.Disk(0), promiseKeyB)
	tn.Start(0)
	assert.False(t, tn.Node(0).rejoining)
	_, marked := tn.Disk(0).Get(rejoinKey)
	assert.False(t, marked, "no rejoin marker left behind")
}

// A rejoining server cannot promise, but a prepare or an accept of a higher
// ballot still tells its proposer it was preempted (PMS §2.2: abandon the
// attempt): a promise for its old ballot arriving later does not make it
// the leader of a ballot older than one it saw, and its next attempt picks
// a ballot above the one it saw.
func TestRejoiningProposerAbandonsAHigherBallotsAttempt(t *testing.T) {
	for _, higher := range []sim.Message{MsgPrepare{Ballot: 30, From: 1}, MsgAccept{Ballot: 30, Slot: 1}} {
		tn := newTestNet(t, 3, testConfig())
		tn.Disk(2).Put(rejoinKey, encodeUvarint(0)) // a rejoin under way when it stopped
		tn.Disk(2).Sync()
		tn.StartAll()
		tn.Fire(2, timerLeader)
		n := tn.Node(2)
		require.True(t, n.rejoining)
		require.Equal(t, roleProposer, n.role)
		prepares := tn.Take(func(e envelope) bool { _, ok := e.Msg.(MsgPrepare); return ok })
		require.NotEmpty(t, prepares)

		tn.DeliverOne(envelope{From: 0, To: 2, Msg: higher})
		assert.Equal(t, roleFollower, n.role, "%T: preempted", higher)
		assert.Empty(t, tn.Take(func(e envelope) bool { return e.From == 2 }), "%T: no promise, no acceptance", higher)
		for _, e := range prepares {
			tn.DeliverOne(e)
		}
		tn.Stabilize()
		assert.Equal(t, roleFollower, n.role, "%T: the promises of the abandoned ballot are ignored", higher)
		tn.Fire(2, timerLeader)
		assert.Greater(t, tn.Node(2).ballot, uint64(30), "%T", higher)
	}
}
