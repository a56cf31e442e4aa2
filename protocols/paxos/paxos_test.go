package paxos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

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

// only returns the single queued message, removing it.
func only(t *testing.T, tn *testNet) envelope {
	t.Helper()
	require.Len(t, tn.queue, 1, "want exactly one message")
	e := tn.queue[0]
	tn.queue = nil
	return e
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
			tn.writePromise(0, tt.promised)
			tn.start(0)
			tn.nodes[0].Receive(tn.envs[0], tt.from, MsgPrepare{Ballot: tt.ballot, From: 1})
			if tt.want == nil {
				require.Empty(t, tn.queue)
			} else {
				e := only(t, tn)
				assert.Equal(t, tt.from, e.to)
				assert.Equal(t, tt.want, e.msg)
			}
			assert.Equal(t, tt.promise, tn.nodes[0].promise)
			// PMS §2.3: the promise survives a crash.
			tn.crash(0)
			tn.start(0)
			assert.Equal(t, tt.promise, tn.nodes[0].promise)
		})
	}
}

// A promise reports, from the prepare's slot on, every accepted proposal and
// every value known chosen; slots compacted away come as the snapshot.
func TestPromiseReportsAcceptedProposals(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.writePromise(0, 5)
	tn.writeRecord(0, 1, 3, true, cmd(9, 1, "add a"))
	tn.writeRecord(0, 2, 4, false, cmd(9, 2, "add b"))
	tn.writeRecord(0, 4, 5, false, cmd(9, 3, "add c"))
	tn.start(0)
	require.Equal(t, uint64(1), tn.nodes[0].commit, "the chosen slot 1 is recovered")

	tn.nodes[0].Receive(tn.envs[0], 1, MsgPrepare{Ballot: 7, From: 2})
	assert.Equal(t, MsgPromise{Ballot: 7, Entries: []PromiseEntry{
		{Slot: 2, Ballot: 4, Cmd: cmd(9, 2, "add b")},
		{Slot: 4, Ballot: 5, Cmd: cmd(9, 3, "add c")},
	}}, only(t, tn).msg)

	tn.nodes[0].Receive(tn.envs[0], 1, MsgPrepare{Ballot: 7, From: 1})
	got := only(t, tn).msg.(MsgPromise)
	require.Len(t, got.Entries, 3)
	assert.Equal(t, PromiseEntry{Slot: 1, Ballot: 3, Decided: true, Cmd: cmd(9, 1, "add a")}, got.Entries[0])
}

func TestPromiseCarriesTheSnapshotBelowItsLog(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	sessions := service.NewSessions(&counter{m: map[string]int{"a": 8}})
	data, err := sessions.Snapshot()
	require.NoError(t, err)
	snap := Snapshot{Index: 8, Digest: 42, Data: data}
	tn.envs[0].disk.Put(snapshotKeyA, encodeSnapshot(snap))
	tn.writeRecord(0, 10, 4, false, cmd(9, 1, "add a"))
	tn.start(0)
	n := tn.nodes[0]
	require.Equal(t, uint64(8), n.applied)
	require.Equal(t, map[string]int{"a": 8}, n.sessionsCounter(t).m)

	n.Receive(tn.envs[0], 1, MsgPrepare{Ballot: 7, From: 3})
	p := only(t, tn).msg.(MsgPromise)
	assert.Equal(t, snap, p.Snapshot)
	assert.Equal(t, []PromiseEntry{{Slot: 10, Ballot: 4, Cmd: cmd(9, 1, "add a")}}, p.Entries)

	n.Receive(tn.envs[0], 1, MsgPrepare{Ballot: 7, From: 9})
	p = only(t, tn).msg.(MsgPromise)
	assert.Zero(t, p.Snapshot.Index, "no snapshot for a proposer past it")
}

// sessionsCounter digs the counter out of a node's state machine, through a
// snapshot (Sessions keeps it private).
func (n *node) sessionsCounter(t *testing.T) *counter {
	t.Helper()
	data, err := n.sessions.Snapshot()
	require.NoError(t, err)
	c := &counter{}
	s := service.NewSessions(c)
	require.NoError(t, s.Restore(data))
	return c
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
		{"promised ballot is accepted", nil, 4, 4, MsgAccepted{Ballot: 4, Slot: 1, Count: 2}, 4, 4},
		{"higher ballot is accepted and promised", nil, 4, 7, MsgAccepted{Ballot: 7, Slot: 1, Count: 2}, 7, 7},
		{"lower ballot is nacked", nil, 7, 4, MsgNack{Ballot: 4, Promised: 7}, 0, 7},
		{"planted bug: lower ballot accepted", []string{BugAcceptLowerBallot}, 7, 4,
			MsgAccepted{Ballot: 4, Slot: 1, Count: 2}, 4, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Bugs = tt.bugs
			tn := newTestNet(t, 3, cfg)
			tn.writePromise(0, tt.promised)
			tn.start(0)
			from := tn.nodes[0].owner(tt.ballot)
			tn.nodes[0].Receive(tn.envs[0], from, MsgAccept{Ballot: tt.ballot, Slot: 1,
				Cmds: []service.Command{cmd(9, 1, "add a"), cmd(9, 2, "add b")}})
			assert.Equal(t, tt.want, only(t, tn).msg)
			tn.crash(0)
			tn.start(0)
			n := tn.nodes[0]
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
	tn.writePromise(0, 4)
	tn.writeRecord(0, 1, 4, true, cmd(9, 1, "add a"))
	tn.start(0)
	tn.nodes[0].Receive(tn.envs[0], 2, MsgAccept{Ballot: 5, Slot: 1, Cmds: []service.Command{cmd(9, 1, "add a")}})
	assert.Equal(t, MsgAccepted{Ballot: 5, Slot: 1, Count: 1}, only(t, tn).msg)
	assert.Equal(t, uint64(4), tn.nodes[0].rec(1).ballot, "a chosen record is not rewritten")
}

// proposals returns the leader's proposals sent to server to, by slot.
func proposals(tn *testNet, from, to sim.NodeID) map[uint64]string {
	out := map[uint64]string{}
	for _, e := range tn.queue {
		if m, ok := e.msg.(MsgAccept); ok && e.from == from && e.to == to {
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
	tn.writePromise(0, 4)
	tn.writeRecord(0, 1, 4, false, cmd(9, 1, "set x 1"))
	tn.writePromise(1, 5)
	tn.writeRecord(1, 1, 5, false, cmd(9, 2, "set x 2"))
	tn.writeRecord(1, 3, 4, false, cmd(9, 3, "set z 3"))
	tn.start(0)
	tn.start(1) // server 2 is down: the quorum is 0 and 1
	tn.campaign(0)
	n := tn.nodes[0]
	require.Equal(t, uint64(6), n.ballot, "the next ballot of server 0 above 5")
	// Deliver the prepare to 1 and its promise back, and stop there.
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 1 })[0])
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 0 })[0])
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, map[uint64]string{1: "set x 2", 2: "noop", 3: "set z 3"}, proposals(tn, 0, 1))
	assert.Equal(t, uint64(4), n.next)

	tn.deliver()
	for _, id := range []sim.NodeID{0, 1} {
		assert.Equal(t, uint64(3), tn.nodes[id].commit, "server %v", id)
	}
	assert.Equal(t, cmd(9, 2, "set x 2").Digest(), tn.commits(1)[1])
	assert.Equal(t, service.Noop.Digest(), tn.commits(2)[1])
	assert.False(t, tn.agreementViolated())
	leaders := 0
	for _, o := range tn.obs {
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
	tn.writePromise(0, 4)
	tn.writePromise(1, 4)
	tn.writeRecord(1, 1, 4, false, cmd(9, 1, "set x 1"))
	tn.startAll()
	tn.campaign(0)
	tn.deliver()
	require.Equal(t, roleLeader, tn.nodes[0].role)
	assert.Equal(t, uint64(1), tn.nodes[0].next, "nothing re-proposed")
	tn.request(10, 0, 1, "set y 7")
	tn.deliver()
	assert.Equal(t, cmd(10, 1, "set y 7").Digest(), tn.commits(1)[0])
}

// A value a promise reports as chosen is learned at once, not proposed again.
func TestChosenValueInAPromiseIsLearned(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.writePromise(0, 4)
	tn.writePromise(1, 4)
	tn.writeRecord(1, 1, 4, true, cmd(9, 1, "add a"))
	tn.writeRecord(1, 2, 4, false, cmd(9, 2, "add b"))
	tn.start(0)
	tn.start(1)
	tn.campaign(0)
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 1 })[0])
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 0 })[0])
	n := tn.nodes[0]
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, map[uint64]string{2: "add b"}, proposals(tn, 0, 1), "slot 1 is known chosen")
	assert.GreaterOrEqual(t, n.commit, uint64(1))
	assert.Equal(t, cmd(9, 1, "add a").Digest(), tn.commits(1)[0])
}

// A restarted proposer never reuses a ballot: it promised its own ballot on
// disk before asking anyone.
func TestRestartedProposerNeverReusesABallot(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.startAll()
	tn.campaign(0)
	first := tn.nodes[0].ballot
	tn.queue = nil // every prepare is lost
	tn.crash(0)
	tn.start(0)
	tn.campaign(0)
	assert.Greater(t, tn.nodes[0].ballot, first)
	assert.Equal(t, sim.NodeID(0), tn.nodes[0].owner(tn.nodes[0].ballot))
}

// Duelling proposers: the lower ballot is preempted (PMS §2.2's nack) and its
// proposer backs off with a doubled timeout; one leader results.
func TestDuellingProposersBackOff(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.startAll()
	tn.campaign(0) // ballot 3
	tn.campaign(1) // ballot 4
	tn.deliver()
	require.Equal(t, roleLeader, tn.nodes[1].role)
	loser := tn.nodes[0]
	assert.Equal(t, roleFollower, loser.role)
	assert.Equal(t, 1, loser.failures)
	assert.GreaterOrEqual(t, loser.timeout, 2*tn.nodes[0].cfg.LeaderTimeoutMin, "the timeout doubled")

	// Seeing a slot chosen is progress: the backoff resets.
	tn.request(10, 1, 1, "add a")
	tn.deliver()
	assert.Zero(t, loser.failures)
}

// The leader chooses a client's command, the others learn it from MsgDecide
// without fetching it, everyone applies it, and the client gets the result.
func TestLeaderChoosesAndLearnersLearn(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.startAll()
	tn.campaign(0)
	tn.deliver()
	tn.request(10, 0, 1, "add a")
	tn.deliver()
	require.Equal(t, []service.Reply{{Client: 10, Seq: 1, Status: service.StatusOK, Result: []byte("1")}}, tn.replies)
	for _, n := range tn.nodes {
		assert.Equal(t, uint64(1), n.applied, "server %v", n.id)
	}
	for _, o := range tn.obs {
		require.NotEqual(t, sim.ObsNote, o.Kind)
	}
}

// Only the leader takes commands; others redirect with the leader they
// follow (none while running phase 1).
func TestNonLeadersRedirect(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.startAll()
	tn.campaign(0)
	tn.deliver()
	tn.request(10, 1, 1, "add a")
	tn.deliver()
	require.Equal(t, []service.Reply{{Client: 10, Seq: 1, Status: service.StatusNotLeader, Leader: 0}}, tn.replies)

	tn.replies = nil
	tn.campaign(2)
	tn.request(10, 2, 1, "add a")
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 2 && e.from == 10 })[0])
	tn.deliverOne(tn.take(func(e envelope) bool { return e.to == 10 })[0])
	require.Equal(t, []service.Reply{{Client: 10, Seq: 1, Status: service.StatusNotLeader, Leader: sim.None}}, tn.replies)
}

// A retried command (same client and seq) runs once, even when a new leader
// chooses it a second time; its retry gets the cached result.
func TestRetriedCommandAppliesOnce(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.startAll()
	tn.campaign(0)
	tn.deliver()
	tn.request(10, 0, 1, "add a")
	tn.deliver()
	tn.campaign(1) // a new leader; the client retries there
	tn.deliver()
	tn.request(10, 1, 1, "add a")
	tn.deliver()
	tn.request(10, 1, 2, "add a")
	tn.deliver()
	var results []string
	for _, r := range tn.replies {
		results = append(results, string(r.Result))
	}
	assert.Equal(t, []string{"1", "1", "2"}, results)
	assert.Equal(t, map[string]int{"a": 2}, tn.nodes[2].sessionsCounter(t).m)
}

// A slot reported chosen above a gap still bounds the gap: the new leader
// fills the slots below it with no-ops, so the chosen one gets applied
// without waiting for client commands.
func TestGapBelowAChosenSlotIsFilled(t *testing.T) {
	tn := newTestNet(t, 3, testConfig())
	tn.writePromise(0, 4)
	tn.writePromise(1, 4)
	tn.writeRecord(1, 3, 4, true, cmd(9, 3, "add c"))
	tn.start(0)
	tn.start(1)
	tn.campaign(0)
	tn.deliver()
	n := tn.nodes[0]
	require.Equal(t, roleLeader, n.role)
	assert.Equal(t, uint64(3), n.commit)
	assert.Equal(t, uint64(4), n.next)
	assert.Equal(t, service.Noop.Digest(), tn.commits(1)[0])
	assert.Equal(t, service.Noop.Digest(), tn.commits(2)[0])
	assert.Equal(t, map[string]int{"c": 1}, n.sessionsCounter(t).m)
}
