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

// A server that lost its promise may have promised, before the loss, a
// ballot above the one it rejoins with, whose phase 1, counting that
// forgotten promise, may still complete (PMS §2.2: an acceptor never
// accepts below a ballot it promised). Five servers: n0 leads ballot 5;
// n2 starts ballot 7 and only n1 promises before n1's disk loses both
// copies of its promise. n1 rejoins with ballot 6 through n0, n3 and n4;
// n2's prepare to n3 was slow and arrives now, and n2 leads ballot 7 with
// n1's old promise. With a majority of the others enough to rejoin, n1 had
// put k v chosen in slot 2 in ballot 6, with n0 and n4, and n2 put k w
// there in ballot 7: two values. Every other member must promise.
func TestRejoinKeepsAPromiseTheServerForgot(t *testing.T) {
	tn := leaderWith(t, 5, testConfig())
	add(tn, 0, 1) // slot 1 chosen in ballot 5 everywhere
	require.Equal(t, uint64(5), tn.Node(0).ballot)

	// n2 runs phase 1 in ballot 7. Only n1's promise gets through now; the
	// prepare to n3 is held back (a slow link, or n2's retry comes later).
	campaign(tn, 2)
	require.Equal(t, uint64(7), tn.Node(2).ballot)
	prepares := tn.Take(func(e envelope) bool { _, ok := e.Msg.(MsgPrepare); return ok && e.From == 2 })
	var toN3 envelope
	for _, e := range prepares {
		switch e.To {
		case 1:
			tn.DeliverOne(e)
		case 3:
			toN3 = e
		}
	}
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgPromise); return ok && e.From == 1 && e.To == 2 })
	require.Equal(t, roleProposer, tn.Node(2).role)
	require.Equal(t, uint64(7), tn.Node(1).promise)
	tn.Queue = nil

	// n1's disk loses both copies of the promise; it restarts and rejoins.
	loseAndRejoin(t, tn, 1, promiseKeyA, promiseKeyB)
	require.Less(t, tn.Node(1).ballot, uint64(7), "the rejoin ballot is below the promise n1 forgot")
	// n0, n3, n4 promise ballot 6; n2's nack is slow.
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgPrepare); return ok && e.From == 1 && e.To != 2 })
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgPromise); return ok && e.To == 1 })
	// Without n2's promise n1 must not lead ballot 6: it may have promised
	// a higher one (it did, 7) whose phase 1 is still under way.
	tn.Queue = nil // heartbeats and the rest

	// n2's delayed prepare reaches n3 now: n3 promises 7, and n2 leads.
	tn.DeliverOne(toN3)
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgPromise); return ok && e.To == 2 })
	require.Equal(t, roleLeader, tn.Node(2).role, "n2 leads ballot 7 with n1's pre-loss promise")
	tn.Queue = nil

	// n1 (ballot 6) proposes v in slot 2; n0 and n4 accept; n1 decides.
	tn.Request(10, 1, 2, "put k v")
	tn.Step()
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgAccept); return ok && (e.To == 0 || e.To == 4) })
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgAccepted); return ok && e.To == 1 })
	tn.Queue = nil

	// n2 (ballot 7) proposes w in slot 2; n3 and n0 accept; n2 decides.
	tn.Request(11, 2, 1, "put k w")
	tn.Step()
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgAccept); return ok && (e.To == 3 || e.To == 0) })
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgAccepted); return ok && e.To == 2 })

	c := tn.Commits(2)
	if len(c) > 1 {
		var first uint64
		for _, id := range tn.Servers() {
			if d, ok := c[id]; ok {
				if first == 0 {
					first = d
				}
				require.Equal(t, first, d, "two values chosen for slot 2: %v", c)
			}
		}
	}
	tn.RequireSafe(t)
}

// A server that lost its snapshot has no record of the acceptances it
// compacted. Its rejoin's phase 1 hears of them, but it proposes only the
// slots of its alpha window at once; the rest wait in memory. Had it ended
// the rejoin there, deposed before proposing them, it would be an ordinary
// acceptor reporting nothing in slots it had accepted, and a phase 1
// counting it could choose other values there. Five servers, alpha 2: n1
// leads and has slots 1 to 8 chosen by n0, n1 and n2 (n0 and n2 never learn
// that), compacts them, and loses its snapshot. It rejoins through every
// other server, proposes slots 1 and 2, and is cut off; n3 then runs phase
// 1 with n4 and n1. Still rejoining, n1 refuses, and n3 cannot lead.
func TestRejoinEndsOnceEveryReportedSlotIsProposed(t *testing.T) {
	cfg := testConfig() // a snapshot every 8 slots
	cfg.Alpha = 2
	tn := leaderWith(t, 5, cfg)
	campaign(tn, 1)
	tn.Stabilize()
	require.Equal(t, roleLeader, tn.Node(1).role)
	tn.Drop = func(e envelope) bool {
		if e.To == 3 || e.To == 4 {
			return true
		}
		switch e.Msg.(type) {
		case MsgDecide, MsgHeartbeat, MsgChosen, MsgSnapshot:
			return e.To == 0 || e.To == 2
		}
		return false
	}
	for seq := uint64(1); seq <= 8; seq++ {
		add(tn, 1, seq)
	}
	require.Equal(t, uint64(8), tn.Node(1).base(), "n1 compacted slots 1..8")
	require.Zero(t, tn.Node(0).commit)
	require.Zero(t, tn.Node(2).commit)
	tn.Drop = nil

	loseAndRejoin(t, tn, 1, snapshotKeyA, snapshotKeyB)
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgPrepare); return ok })
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgPromise); return ok && e.To == 1 })
	require.Equal(t, roleLeader, tn.Node(1).role)
	assert.True(t, tn.Node(1).rejoining, "slots 3..8 are not proposed yet")
	tn.Queue = nil // cut off before its accepts leave

	tn.Drop = func(e envelope) bool { return e.To == 0 || e.To == 2 || e.From == 0 || e.From == 2 }
	campaign(tn, 3)
	tn.Stabilize()
	for seq := uint64(1); seq <= 6; seq++ {
		tn.Request(11, 3, seq, "put k w")
		tn.Stabilize()
	}
	assert.NotEqual(t, roleLeader, tn.Node(3).role)
	tn.RequireSafe(t) // n1's commits of slots 3..8 before its loss included
}

// A rejoin ends with its proposals synced before the marker goes: on a disk
// that reorders unsynced writes, a crash that kept the marker's delete and
// lost the proposals would restart an ordinary acceptor without them (for
// a server that lost its snapshot, without any record of those slots).
func TestRejoinSyncsItsProposalsBeforeTheMarkerGoes(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.SetDiskFaults(2, sim.DiskFaults{ReorderedWrites: true})
	const slots = 3
	for round := range 30 {
		for _, k := range tn.Disk(2).Keys("") {
			tn.Disk(2).Delete(k)
		}
		tn.Disk(2).Put(rejoinKey, encodeUvarint(0))
		tn.Disk(2).Sync()
		tn.Start(2)
		tn.Within(2, func(n *node, env *prototest.Env) {
			n.env = env
			require.True(t, n.rejoining)
			n.role, n.ballot, n.promise = roleLeader, 12, 12 // as if every other member promised 12
			for s := uint64(1); s <= slots; s++ {
				n.propose(s, prototest.Cmd(9, s, "set x 1"))
			}
			n.next = slots + 1
			n.maybeFinishRejoin() // no send after: the crash comes before the step's last sync
			require.False(t, n.rejoining)
		})
		tn.Restart(2)
		st := loadState(tn.Disk(2))
		if st.lost {
			continue // still rejoining: it asks again
		}
		require.Len(t, st.records, slots, "round %d: the rejoin ended on disk without its proposals", round)
		tn.Crash(2)
	}
}

// loseAndRejoin crashes server id, corrupts the records at keys on its disk,
// restarts it, which must find the loss and rejoin, and has its failure
// detector fire: it sends its Rejoin prepares.
func loseAndRejoin(t *testing.T, tn *testNet, id sim.NodeID, keys ...string) {
	t.Helper()
	crash(tn, id)
	for _, k := range keys {
		prototest.FlipBit(t, tn.Disk(id), k)
	}
	tn.Start(id)
	require.True(t, tn.Node(id).rejoining)
	tn.Fire(id, timerLeader)
}
