package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Scripted tests of the rules of Paxos Made Simple (PMS), one rule each.

// Ballots are unique to their owner, ordered by (round, id), and a new one is
// above everything seen (PMS §2.2, §2.5).
func TestBallots(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.Uint64Range(1, MaxServers).Draw(t, "size")
		id := rapid.Uint64Range(0, size-1).Draw(t, "id")
		n := &node{id: sim.NodeID(id), size: size}
		n.promise = rapid.Uint64Range(0, 1<<40).Draw(t, "promise")
		n.maxSeen = rapid.Uint64Range(0, 1<<40).Draw(t, "maxSeen")
		b := n.nextBallot()
		if b <= max(n.promise, n.maxSeen) || b < size {
			t.Fatalf("ballot %d is not above promise %d and seen %d", b, n.promise, n.maxSeen)
		}
		if n.owner(b) != n.id {
			t.Fatalf("ballot %d belongs to %v, not %v", b, n.owner(b), n.id)
		}
		if prev := b - size; prev > max(n.promise, n.maxSeen) && prev >= size {
			t.Fatalf("ballot %d is not the smallest: %d would do", b, prev)
		}
		// (round, id) order is numeric order.
		r1, i1 := rapid.Uint64Range(1, 1<<20).Draw(t, "r1"), rapid.Uint64Range(0, size-1).Draw(t, "i1")
		r2, i2 := rapid.Uint64Range(1, 1<<20).Draw(t, "r2"), rapid.Uint64Range(0, size-1).Draw(t, "i2")
		lexLess := r1 < r2 || (r1 == r2 && i1 < i2)
		if lexLess != (r1*size+i1 < r2*size+i2) {
			t.Fatalf("(%d,%d) vs (%d,%d): order differs", r1, i1, r2, i2)
		}
	})
}

// PMS §2.2 phase 1b: promise a higher ballot, repeat the promise of the
// promised one, reject a lower one (with a nack).
func TestAcceptorPhase1Rules(t *testing.T) {
	tests := []struct {
		name     string
		promised uint64
		from     sim.NodeID
		ballot   uint64
		want     sim.Message
		promise  uint64 // after
	}{
		{"first prepare is promised", 0, 1, 4, MsgPromise{Ballot: 4}, 4},
		{"higher ballot is promised", 5, 1, 7, MsgPromise{Ballot: 7}, 7},
		{"promised ballot again: a retry", 7, 1, 7, MsgPromise{Ballot: 7}, 7},
		{"lower ballot is nacked", 7, 2, 5, MsgNack{Ballot: 5, Promised: 7}, 7},
		{"a ballot the sender does not own is ignored", 0, 2, 4, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTestNet(t, 3, testConfig())
			writePromise(tn, 0, tt.promised)
			tn.Start(0)
			tn.Node(0).Receive(tn.Env(0), tt.from, MsgPrepare{Ballot: tt.ballot, From: 1})
			if tt.want == nil {
				require.Empty(t, tn.Queue)
			} else {
				e := only(t, tn)
				assert.Equal(t, tt.from, e.To)
				assert.Equal(t, tt.want, e.Msg)
			}
			assert.Equal(t, tt.promise, tn.Node(0).promise)
			// PMS §2.3: the promise survives a crash.
			crash(tn, 0)
			tn.Start(0)
			assert.Equal(t, tt.promise, tn.Node(0).promise)
		})
	}
}

// A promise reports, from the prepare's slot on, every accepted proposal and
// every value known chosen; slots compacted away come as the snapshot.
func TestPromiseReportsAcceptedProposals(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 5)
	writeRecord(tn, 0, 1, 3, true, cmd(9, 1, "add a"))
	writeRecord(tn, 0, 2, 4, false, cmd(9, 2, "add b"))
	writeRecord(tn, 0, 4, 5, false, cmd(9, 3, "add c"))
	tn.Start(0)
	require.Equal(t, uint64(1), tn.Node(0).commit, "the chosen slot 1 is recovered")

	tn.Node(0).Receive(tn.Env(0), 1, MsgPrepare{Ballot: 7, From: 2})
	assert.Equal(t, MsgPromise{Ballot: 7, Entries: []PromiseEntry{
		{Slot: 2, Ballot: 4, Cmd: cmd(9, 2, "add b")},
		{Slot: 4, Ballot: 5, Cmd: cmd(9, 3, "add c")},
	}}, only(t, tn).Msg)

	tn.Node(0).Receive(tn.Env(0), 1, MsgPrepare{Ballot: 7, From: 1})
	got := only(t, tn).Msg.(MsgPromise)
	require.Len(t, got.Entries, 3)
	assert.Equal(t, PromiseEntry{Slot: 1, Ballot: 3, Decided: true, Cmd: cmd(9, 1, "add a")}, got.Entries[0])
}

func TestPromiseCarriesTheSnapshotBelowItsLog(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	sessions := service.NewSessions(prototest.NewKVWith(map[string]string{"a": "8"}))
	data, err := sessions.Snapshot()
	require.NoError(t, err)
	snap := Snapshot{Index: 8, Digest: 42, Data: data}
	tn.Disk(0).Put(snapshotKeyA, encodeSnapshot(snap))
	writeRecord(tn, 0, 10, 4, false, cmd(9, 1, "add a"))
	tn.Start(0)
	n := tn.Node(0)
	require.Equal(t, uint64(8), n.applied)
	require.Equal(t, map[string]string{"a": "8"}, sessionsKV(t, n))

	n.Receive(tn.Env(0), 1, MsgPrepare{Ballot: 7, From: 3})
	p := only(t, tn).Msg.(MsgPromise)
	assert.Equal(t, snap, p.Snapshot)
	assert.Equal(t, []PromiseEntry{{Slot: 10, Ballot: 4, Cmd: cmd(9, 1, "add a")}}, p.Entries)

	n.Receive(tn.Env(0), 1, MsgPrepare{Ballot: 7, From: 8})
	p = only(t, tn).Msg.(MsgPromise)
	assert.Equal(t, snap, p.Snapshot, "a proposer asking from the snapshot's last slot gets it: that slot has no record left")

	n.Receive(tn.Env(0), 1, MsgPrepare{Ballot: 7, From: 9})
	p = only(t, tn).Msg.(MsgPromise)
	assert.Zero(t, p.Snapshot.Index, "no snapshot for a proposer past it")
}

// PMS §2.2 phase 2b: accept unless a higher ballot was promised; accepting
// promises the ballot; the acceptance is on disk before the answer.
func TestAcceptorPhase2Rules(t *testing.T) {
	tests := []struct {
		name     string
		bugs     []string
		promised uint64
		ballot   uint64
		want     sim.Message
		accepted uint64 // ballot of the record after
		promise  uint64 // after
	}{
		{"promised ballot is accepted", nil, 4, 4, MsgAccepted{SlotRun{Ballot: 4, Slot: 1, Count: 2}}, 4, 4},
		{"higher ballot is accepted and promised", nil, 4, 7, MsgAccepted{SlotRun{Ballot: 7, Slot: 1, Count: 2}}, 7, 7},
		{"lower ballot is nacked", nil, 7, 4, MsgNack{Ballot: 4, Promised: 7}, 0, 7},
		{"planted bug: lower ballot accepted", []string{BugAcceptLowerBallot}, 7, 4,
			MsgAccepted{SlotRun{Ballot: 4, Slot: 1, Count: 2}}, 4, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Bugs = tt.bugs
			tn := newTestNet(t, 3, cfg)
			writePromise(tn, 0, tt.promised)
			tn.Start(0)
			from := tn.Node(0).owner(tt.ballot)
			tn.Node(0).Receive(tn.Env(0), from, MsgAccept{Ballot: tt.ballot, Slot: 1,
				Cmds: []service.Command{cmd(9, 1, "add a"), cmd(9, 2, "add b")}})
			assert.Equal(t, tt.want, only(t, tn).Msg)
			crash(tn, 0)
			tn.Start(0)
			n := tn.Node(0)
			assert.Equal(t, tt.promise, n.promise)
			if tt.accepted == 0 {
				assert.Nil(t, n.rec(1))
				return
			}
			for s, op := range map[uint64]string{1: "add a", 2: "add b"} {
				r := n.rec(s)
				require.NotNil(t, r)
				assert.Equal(t, tt.accepted, r.ballot)
				assert.Equal(t, op, string(r.cmd.Op))
				assert.False(t, r.chosen)
			}
		})
	}
}

// An acceptor never overwrites a proposal with one of the same ballot (a
// retransmission) nor a chosen value; it acknowledges both.
func TestAcceptorKeepsChosenValues(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 4)
	writeRecord(tn, 0, 1, 4, true, cmd(9, 1, "add a"))
	tn.Start(0)
	tn.Node(0).Receive(tn.Env(0), 2, MsgAccept{Ballot: 5, Slot: 1, Cmds: []service.Command{cmd(9, 1, "add a")}})
	assert.Equal(t, MsgAccepted{SlotRun{Ballot: 5, Slot: 1, Count: 1}}, only(t, tn).Msg)
	assert.Equal(t, uint64(4), tn.Node(0).rec(1).ballot, "a chosen record is not rewritten")
}

// proposals returns the leader's proposals sent to server to, by slot.
func proposals(tn *testNet, from, to sim.NodeID) map[uint64]string {
	out := map[uint64]string{}
	for _, e := range tn.Queue {
		if m, ok := e.Msg.(MsgAccept); ok && e.From == from && e.To == to {
			for i, c := range m.Cmds {
				if c.IsNoop() {
					out[m.Slot+uint64(i)] = "noop"
				} else {
					out[m.Slot+uint64(i)] = string(c.Op)
				}
			}
		}
	}
	return out
}

// PMS §2.2 (P2c) and §3: the new leader proposes, in each slot, the value of
// the highest-ballot proposal its phase 1 heard of, and a no-op in a gap.
func TestLeaderAdoptsTheHighestBallotAndFillsGaps(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 4)
	writeRecord(tn, 0, 1, 4, false, cmd(9, 1, "set x 1"))
	writePromise(tn, 1, 5)
	writeRecord(tn, 1, 1, 5, false, cmd(9, 2, "set x 2"))
	writeRecord(tn, 1, 3, 4, false, cmd(9, 3, "set z 3"))
	tn.Start(0)
	tn.Start(1) // server 2 is down: the quorum is 0 and 1
	campaign(tn, 0)
	n := tn.Node(0)
	require.Equal(t, uint64(6), n.ballot, "the next ballot of server 0 above 5")
	// Deliver the prepare to 1 and its promise back, and stop there.
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 1 })[0])
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 0 })[0])
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, map[uint64]string{1: "set x 2", 2: "noop", 3: "set z 3"}, proposals(tn, 0, 1))
	assert.Equal(t, uint64(4), n.next)

	tn.Stabilize()
	for _, id := range []sim.NodeID{0, 1} {
		assert.Equal(t, uint64(3), tn.Node(id).commit, "server %v", id)
	}
	assert.Equal(t, cmd(9, 2, "set x 2").Digest(), tn.Commits(1)[1])
	assert.Equal(t, service.Noop.Digest(), tn.Commits(2)[1])
	tn.RequireSafe(t)
	leaders := 0
	for _, o := range tn.Obs {
		if o.Kind == sim.ObsLeader {
			leaders++
			assert.Equal(t, uint64(6), o.Term)
		}
	}
	assert.Equal(t, 1, leaders)
}

// The planted bug ignore-accepted drops what phase 1 reported: the new
// leader puts new commands where others have accepted values.
func TestIgnoreAcceptedBugOverwritesAcceptedSlots(t *testing.T) {
	cfg := testConfig()
	cfg.Bugs = []string{BugIgnoreAccepted}
	tn := newTestNet(t, 3, cfg)
	writePromise(tn, 0, 4)
	writePromise(tn, 1, 4)
	writeRecord(tn, 1, 1, 4, false, cmd(9, 1, "set x 1"))
	tn.StartAll()
	campaign(tn, 0)
	tn.Stabilize()
	require.Equal(t, roleLeader, tn.Node(0).role)
	assert.Equal(t, uint64(1), tn.Node(0).next, "nothing re-proposed")
	tn.Request(10, 0, 1, "set y 7")
	tn.Stabilize()
	assert.Equal(t, cmd(10, 1, "set y 7").Digest(), tn.Commits(1)[0])
}

// A value a promise reports as chosen is learned at once, not proposed again.
func TestChosenValueInAPromiseIsLearned(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 4)
	writePromise(tn, 1, 4)
	writeRecord(tn, 1, 1, 4, true, cmd(9, 1, "add a"))
	writeRecord(tn, 1, 2, 4, false, cmd(9, 2, "add b"))
	tn.Start(0)
	tn.Start(1)
	campaign(tn, 0)
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 1 })[0])
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 0 })[0])
	n := tn.Node(0)
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, map[uint64]string{2: "add b"}, proposals(tn, 0, 1), "slot 1 is known chosen")
	assert.GreaterOrEqual(t, n.commit, uint64(1))
	assert.Equal(t, cmd(9, 1, "add a").Digest(), tn.Commits(1)[0])
}

// A restarted proposer never reuses a ballot: it promised its own ballot on
// disk before asking anyone.
func TestRestartedProposerNeverReusesABallot(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.StartAll()
	campaign(tn, 0)
	first := tn.Node(0).ballot
	tn.Queue = nil // every prepare is lost
	crash(tn, 0)
	tn.Start(0)
	campaign(tn, 0)
	assert.Greater(t, tn.Node(0).ballot, first)
	assert.Equal(t, sim.NodeID(0), tn.Node(0).owner(tn.Node(0).ballot))
}

// Duelling proposers: the lower ballot is preempted (PMS §2.2's nack) and its
// proposer backs off with a doubled timeout; one leader results.
func TestDuellingProposersBackOff(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.StartAll()
	campaign(tn, 0) // ballot 3
	campaign(tn, 1) // ballot 4
	tn.Stabilize()
	require.Equal(t, roleLeader, tn.Node(1).role)
	loser := tn.Node(0)
	assert.Equal(t, roleFollower, loser.role)
	assert.Equal(t, 1, loser.failures)
	assert.GreaterOrEqual(t, loser.timeout, 2*tn.Node(0).cfg.LeaderTimeoutMin, "the timeout doubled")

	// Seeing a slot chosen is progress: the backoff resets.
	add(tn, 1, 1)
	assert.Zero(t, loser.failures)
}

// The leader chooses a client's command, the others learn it from MsgDecide
// without fetching it, everyone applies it, and the client gets the result.
func TestLeaderChoosesAndLearnersLearn(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	add(tn, 0, 1)
	require.Equal(t, []service.Reply{{Client: 10, Seq: 1, Status: service.StatusOK, Result: []byte("1")}}, tn.Replies)
	for _, n := range nodes(tn) {
		assert.Equal(t, uint64(1), n.applied, "server %v", n.id)
	}
	for _, o := range tn.Obs {
		require.NotEqual(t, sim.ObsNote, o.Kind)
	}
}

// Only the leader takes commands; others redirect with the leader they
// follow (none while running phase 1).
func TestNonLeadersRedirect(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	add(tn, 1, 1)
	require.Equal(t, []service.Reply{{Client: 10, Seq: 1, Status: service.StatusNotLeader, Leader: 0}}, tn.Replies)

	tn.Replies = nil
	campaign(tn, 2)
	tn.Request(10, 2, 1, "add a")
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 2 && e.From == 10 })[0])
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.To == 10 })[0])
	require.Equal(t, []service.Reply{{Client: 10, Seq: 1, Status: service.StatusNotLeader, Leader: sim.None}}, tn.Replies)
}

// A retried command (same client and seq) runs once, even when a new leader
// chooses it a second time; its retry gets the cached result.
func TestRetriedCommandAppliesOnce(t *testing.T) {
	tn := leaderWith(t, 3, testConfig())
	add(tn, 0, 1)
	campaign(tn, 1) // a new leader; the client retries there
	tn.Stabilize()
	add(tn, 1, 1)
	add(tn, 1, 2)
	var results []string
	for _, r := range tn.Replies {
		results = append(results, string(r.Result))
	}
	assert.Equal(t, []string{"1", "1", "2"}, results)
	assert.Equal(t, map[string]string{"a": "2"}, sessionsKV(t, tn.Node(2)))
}

// A slot reported chosen above a gap still bounds the gap: the new leader
// fills the slots below it with no-ops, so the chosen one gets applied
// without waiting for client commands.
func TestGapBelowAChosenSlotIsFilled(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	writePromise(tn, 0, 4)
	writePromise(tn, 1, 4)
	writeRecord(tn, 1, 3, 4, true, cmd(9, 3, "add c"))
	tn.Start(0)
	tn.Start(1)
	campaign(tn, 0)
	tn.Stabilize()
	n := tn.Node(0)
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, uint64(3), n.commit)
	assert.Equal(t, uint64(4), n.next)
	assert.Equal(t, service.Noop.Digest(), tn.Commits(1)[0])
	assert.Equal(t, service.Noop.Digest(), tn.Commits(2)[0])
	assert.Equal(t, map[string]string{"c": "1"}, sessionsKV(t, n))
}

// TestAnswersOfAnOlderBallotDoNotCount: a promise or an acceptance answers
// one ballot (PMS §2.2). A promise of an older ballot reports what its
// sender had accepted then, not since, and an acceptance of an older ballot
// is of another proposal: neither counts toward the current ballot, though
// a majority of them arrives.
func TestAnswersOfAnOlderBallotDoNotCount(t *testing.T) {
	tn := newTestNet(t, 5, testConfig())
	tn.StartAll()
	campaign(tn, 0)
	n := tn.Node(0)
	old := n.ballot
	tn.Queue = nil
	campaign(tn, 0) // a second phase 1, as after a nack: a higher ballot
	require.Greater(t, n.ballot, old)
	tn.Queue = nil
	for _, from := range []sim.NodeID{1, 2} {
		tn.DeliverOne(envelope{From: from, To: 0, Msg: MsgPromise{Ballot: old}})
	}
	require.Equal(t, roleProposer, n.role, "promises of the older ballot")

	tn = leaderWith(t, 5, testConfig())
	n = tn.Node(0)
	old = n.ballot
	campaign(tn, 0)
	tn.Stabilize()
	require.Equal(t, roleLeader, n.role)
	require.Greater(t, n.ballot, old)
	tn.Request(10, 0, 1, "add a")
	tn.DeliverOne(tn.Take(func(e envelope) bool { return e.From == 10 })[0])
	tn.Take(nil) // the accepts go nowhere
	slot := n.commit + 1
	require.True(t, n.proposed(slot), "the request is proposed in slot %d", slot)
	for _, from := range []sim.NodeID{1, 2, 3} { // a majority without the leader's own
		tn.DeliverOne(envelope{From: from, To: 0, Msg: MsgAccepted{SlotRun{Ballot: old, Slot: slot, Count: 1}}})
	}
	require.Less(t, n.commit, slot, "acceptances of the older ballot chose nothing")
}
