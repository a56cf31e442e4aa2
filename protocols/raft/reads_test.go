package raft

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/internal/prototest"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// readKV is the test KV that tells its reads ("get k") from its writes, as
// the workload's KV does: only such a state machine gets reads off the log.
type readKV struct{ *prototest.KV }

func (readKV) ReadOnly(op []byte) bool { return bytes.HasPrefix(op, []byte("get ")) }

const reader sim.NodeID = 9 // a client

// newReadNet returns three started servers in the given read mode, led by
// server 0 (term 1, its no-op committed everywhere), with x set to 1, and
// the clock stepped by Fire only when a test says so.
func newReadNet(t *testing.T, mode ReadMode, bugs ...string) *testNet {
	return newReadNetOf(t, 3, mode, bugs...)
}

// newReadNetOf is newReadNet with servers servers.
func newReadNetOf(t *testing.T, servers int, mode ReadMode, bugs ...string) *testNet {
	cfg := DefaultConfig()
	cfg.ReadMode, cfg.Bugs = mode, bugs
	tn := newNetWith(t, servers, cfg, func() service.StateMachine { return readKV{prototest.NewKV().(*prototest.KV)} })
	tn.StartAll()
	forceLeader(tn, 0)
	tn.Stabilize()
	tn.Request(reader, 0, 1, "set x 1")
	tn.Stabilize()
	tn.Replies = nil
	return tn
}

// count counts the queued messages of type M.
func count[M sim.Message](tn *testNet) int {
	c := 0
	for _, e := range tn.Queue {
		if _, ok := e.Msg.(M); ok {
			c++
		}
	}
	return c
}

func isHeartbeat(e envelope) bool { _, ok := e.Msg.(MsgHeartbeat); return ok }

func TestReadModeLogAppendsReads(t *testing.T) {
	tn := newReadNet(t, ReadLog)
	last := tn.Node(0).lastIndex()
	tn.Request(reader, 0, 2, "get x")
	tn.Stabilize()
	assert.Equal(t, last+1, tn.Node(0).lastIndex(), "the read is a log entry")
	require.Len(t, tn.Replies, 1)
	assert.Equal(t, "1", string(tn.Replies[0].Result))
}

// Thesis §6.4: a read-index read is answered only after a majority
// acknowledged a round sent after it arrived; it never enters the log.
func TestReadIndexWaitsForAMajority(t *testing.T) {
	tn := newReadNet(t, ReadIndex)
	last := tn.Node(0).lastIndex()
	tn.Request(reader, 0, 2, "get x")
	tn.Step()
	assert.Equal(t, 2, count[MsgHeartbeat](tn), "a round to both followers")
	assert.Empty(t, tn.Replies)

	tn.DropQueued(isHeartbeat) // the round is lost: no answer
	tn.Stabilize()
	assert.Empty(t, tn.Replies)

	tn.Fire(0, timerHeartbeat) // the round is sent again while the read waits
	assert.Equal(t, 2, count[MsgHeartbeat](tn))
	tn.Deliver(func(e envelope) bool { return isHeartbeat(e) && e.To == 1 })
	tn.DropQueued(isHeartbeat)
	tn.Stabilize() // one follower's answer: with the leader, a majority of three
	require.Len(t, tn.Replies, 1)
	assert.Equal(t, service.StatusOK, tn.Replies[0].Status)
	assert.Equal(t, "1", string(tn.Replies[0].Result))
	assert.Equal(t, last, tn.Node(0).lastIndex(), "no log entry")
}

// A leader that learns of a higher term while a read waits answers it
// NotLeader, with no value.
func TestReadIndexDeposedLeaderDoesNotAnswer(t *testing.T) {
	tn := newReadNet(t, ReadIndex)
	tn.Request(reader, 0, 2, "get x")
	tn.Step()
	tn.Take(nil)
	receive(tn, 1, 0, MsgHeartbeatResp{Term: 5})
	assert.Equal(t, roleFollower, tn.Node(0).role)
	var reply service.Reply
	for _, e := range tn.Take(nil) {
		if r, ok := service.ReplyOf(e.Msg); ok {
			reply = r
		}
	}
	assert.Equal(t, service.StatusNotLeader, reply.Status)
}

// Thesis §6.4: a new leader answers no read before an entry of its term
// commits, even with its leadership confirmed.
func TestReadIndexWaitsForTheNewLeadersCommit(t *testing.T) {
	tn := newReadNet(t, ReadIndex)
	// Server 1 wins term 2; its no-op is held back.
	forceLeader(tn, 1)
	tn.Take(func(e envelope) bool { _, ok := e.Msg.(*MsgApp); return ok })
	tn.Request(reader, 1, 2, "get x")
	tn.Step()
	tn.Deliver(isHeartbeat)
	tn.Deliver(func(e envelope) bool { _, ok := e.Msg.(MsgHeartbeatResp); return ok })
	assert.Equal(t, tn.Node(1).reads.round, tn.Node(1).reads.confirmed, "leadership confirmed")
	assert.Empty(t, tn.Replies, "no answer before the no-op commits")
	tn.Fire(1, timerHeartbeat) // the no-op goes out again
	tn.Stabilize()
	require.Len(t, tn.Replies, 1)
	assert.Equal(t, "1", string(tn.Replies[0].Result))
}

// Thesis §6.4: under a lease the leader answers at once, with no message;
// once the lease has run out (ElectionTimeoutMin/LeaseDrift on its clock
// after the confirmed round began) it confirms again first.
func TestLeaseReads(t *testing.T) {
	tn := newReadNet(t, ReadLease)
	n := tn.Node(0)
	assert.Equal(t, 240*time.Millisecond, n.lease, "300ms / 1.25")
	tn.Fire(0, timerHeartbeat) // a round: the lease starts now
	tn.Stabilize()
	start := tn.Now

	tn.Advance(239 * time.Millisecond)
	tn.Request(reader, 0, 2, "get x")
	tn.Step()
	require.Len(t, tn.Queue, 1, "the answer, and no other message")
	tn.Stabilize()
	require.Len(t, tn.Replies, 1, "answered under the lease")
	assert.Equal(t, "1", string(tn.Replies[0].Result))

	tn.Advance(time.Millisecond)
	assert.Equal(t, start.Add(n.lease), tn.Now)
	tn.Request(reader, 0, 3, "get x")
	tn.Step()
	assert.Len(t, tn.Replies, 1, "the lease has run out")
	assert.Equal(t, 2, count[MsgHeartbeat](tn))
	tn.Stabilize()
	assert.Len(t, tn.Replies, 2, "answered after a round")
}

func TestLeaseDuration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ReadMode, cfg.LeaseDrift = ReadLease, 2
	assert.Equal(t, 150*time.Millisecond, leaseDuration(cfg, 0))
	cfg.LeaseDrift = 0 // the default
	assert.Equal(t, 240*time.Millisecond, leaseDuration(cfg, 0))
	assert.Equal(t, 300*time.Millisecond, leaseDuration(cfg, service.BugsOf(leaseNoDriftMargin)), "the planted bug: no margin")
}

// Thesis §4.2.3, which a lease relies on: a follower that heard from its
// leader less than ElectionTimeoutMin ago ignores a vote request of a higher
// term (and keeps its term); later it votes, and a server restarted counts
// as having just heard. In log mode it votes at once.
func TestLeaseFollowerIgnoresVotesWhileTheLeaderIsAlive(t *testing.T) {
	for _, mode := range []ReadMode{ReadLog, ReadLease} {
		t.Run(string(mode), func(t *testing.T) {
			tn := newReadNet(t, mode)
			n := tn.Node(2)
			vote := MsgVote{Term: 7, LastIndex: n.lastIndex(), LastTerm: n.lastTerm()}
			tn.Advance(299 * time.Millisecond)
			receive(tn, 1, 2, vote)
			resp, _ := takeLast(tn, 2, 1).(MsgVoteResp)
			if mode == ReadLog {
				assert.True(t, resp.Granted)
				return
			}
			assert.Equal(t, MsgVoteResp{}, resp, "no answer")
			assert.Equal(t, uint64(1), n.term)
			assert.Equal(t, uint64(7), n.seenTerm)

			tn.Crash(2)
			tn.Restart(2)
			n = tn.Node(2)
			tn.Advance(time.Millisecond)
			receive(tn, 1, 2, vote)
			assert.Nil(t, takeLast(tn, 2, 1), "just restarted: it may have backed a lease")

			tn.Advance(300 * time.Millisecond)
			receive(tn, 1, 2, vote)
			resp, _ = takeLast(tn, 2, 1).(MsgVoteResp)
			assert.True(t, resp.Granted)
			assert.Equal(t, uint64(7), n.term)
		})
	}
}

// A lease round (MsgHeartbeat) arms the vote guard as an append does: the
// lease counts its acknowledgements, so only the round itself proves that
// the follower backs the lease it gives (thesis §4.2.3, §6.4).
func TestLeaseRoundArmsTheVoteGuard(t *testing.T) {
	tn := newReadNet(t, ReadLease)
	n := tn.Node(2)
	tn.Advance(250 * time.Millisecond)
	receive(tn, 0, 2, MsgHeartbeat{Term: n.term, Round: 1})
	tn.Take(nil)
	tn.Advance(250 * time.Millisecond) // 500ms after the last append, 250ms after the round
	receive(tn, 1, 2, MsgVote{Term: 7, LastIndex: n.lastIndex(), LastTerm: n.lastTerm()})
	assert.Nil(t, takeLast(tn, 2, 1), "no vote while the round's lease may hold")
	assert.Equal(t, uint64(1), n.term)
}

// A server that ignored a term campaigns past it: it never leads a term
// lower than one it has seen.
func TestLeaseCandidateStartsPastIgnoredTerms(t *testing.T) {
	tn := newReadNet(t, ReadLease)
	receive(tn, 1, 2, MsgVote{Term: 7, LastIndex: 1, LastTerm: 1})
	tn.Take(nil)
	tn.Advance(time.Hour)
	tn.Fire(2, timerElection)
	assert.Equal(t, roleCandidate, tn.Node(2).role)
	assert.Equal(t, uint64(8), tn.Node(2).term)
}

// TestReadIndexReadWaitsForARoundSentAfterIt: a read is answered only on a
// round sent after it arrived (thesis §6.4). Answers the followers sent
// before the read came prove nothing about the leader at the read's time: a
// new leader may have taken writes meanwhile. A second read that arrives
// while round 1's answers are on their way stays unanswered when its own
// round is lost; with the planted bug it joins round 1 and is answered on
// those answers.
func TestReadIndexReadWaitsForARoundSentAfterIt(t *testing.T) {
	for _, bugs := range [][]string{nil, {BugReadIndexJoinsEarlierRound}} {
		tn := newReadNet(t, ReadIndex, bugs...)
		tn.Request(reader, 0, 2, "get x")
		tn.Step()               // round 1 goes out for the first read
		tn.Deliver(isHeartbeat) // both followers answer it; the answers are still on their way
		answers := tn.Take(nil)
		tn.Request(reader+1, 0, 1, "get x")
		tn.Step()                  // the second read arrives after the followers answered
		tn.DropQueued(isHeartbeat) // the round sent for it, if any, is lost
		for _, e := range answers {
			tn.DeliverOne(e) // round 1's answers arrive
		}
		tn.Stabilize()
		if bugs == nil {
			require.Len(t, tn.Replies, 1, "only the read that came before round 1 is answered on it")
			require.Equal(t, reader, tn.Replies[0].Client)
		} else {
			require.Len(t, tn.Replies, 2, "with the planted bug the second read joins round 1")
		}
	}
}

// A read-index read waits for a heartbeat round that a majority of the
// configuration acknowledges (confirmRounds). A membership change can make
// the acknowledgements in hand a majority (here the only other voter, down,
// is removed, leaving the leader alone): the heartbeat confirms its round
// then. Confirmed only on a heartbeat response or a new read, the read
// waited for ever: rounds went to no one, and the client's retries of the
// same read were taken for a retry of a read that waits already.
func TestReadIndexReadAnsweredAfterAChangeShrinksTheQuorum(t *testing.T) {
	tn := newReadNetOf(t, 2, ReadIndex)
	require.Equal(t, roleLeader, tn.Node(0).role)

	tn.Crash(1)
	tn.Request(reader, 0, 2, "get x")
	tn.Stabilize() // the round's heartbeat to n1 is lost: it is down
	require.Empty(t, tn.Replies, "n0 waits for a majority of n0 n1")

	change(tn, 0, 0, sim.MembersOf(1)) // the operator removes the dead server
	tn.Stabilize()
	require.Equal(t, configuration{voters: sim.MembersOf(0)}, tn.Node(0).conf)
	require.Equal(t, tn.Node(0).lastIndex(), tn.Node(0).commit, "n0 alone committed its removal of n1")

	tn.FireAdvance = 0
	for range 20 { // a second of heartbeats, and the client retrying its read
		tn.Advance(50 * time.Millisecond)
		tn.Fire(0, timerHeartbeat)
		tn.Request(reader, 0, 2, "get x")
		tn.Stabilize()
	}
	assert.NotEmpty(t, tn.Replies, "the read is answered: n0 is a majority of its configuration on its own")
	tn.RequireSafe(t)
}
