package checkers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/simrun/simrun/sim"
)

// ballot is a test message casting votes of one kind and term.
type ballot struct {
	kind   string
	term   uint64
	values map[uint64]uint64 // index -> value
	order  []uint64          // indexes in the order cast
}

func (ballot) AppendTrace(b []byte) []byte { return append(b, "ballot"...) }

func (m ballot) EachVote(_ sim.NodeID, fn func(sim.Vote)) {
	for _, i := range m.order {
		fn(sim.Vote{Kind: m.kind, Term: m.term, Index: i, Value: m.values[i]})
	}
}

func vote(kind string, term, index, value uint64) ballot {
	return ballot{kind: kind, term: term, values: map[uint64]uint64{index: value}, order: []uint64{index}}
}

// TestVotesAreNeverTakenBack: the same vote again, votes of other slots,
// kinds or senders, and a newer term are fine; a second value for a slot is
// a violation naming both; a vote of a term older than the sender's latest
// is not judged.
func TestVotesAreNeverTakenBack(t *testing.T) {
	a := NewAgreement().(*agreement)
	ok := func(from, to sim.NodeID, m sim.Message) {
		t.Helper()
		require.Nil(t, a.Sent(0, 1, from, to, m))
	}
	ok(0, 1, vote("prepare", 2, 7, 0xa))
	ok(0, 2, vote("prepare", 2, 7, 0xa)) // the same to another
	ok(0, 1, vote("prepare", 2, 8, 0xb)) // another index
	ok(0, 1, vote("commit", 2, 7, 0xc))  // another kind
	ok(1, 0, vote("prepare", 2, 7, 0xd)) // another sender (a Byzantine primary's doing)
	ok(0, 1, vote("prepare", 3, 7, 0xe)) // a newer view
	ok(0, 1, vote("prepare", 2, 7, 0xf)) // an older view, no longer judged
	ok(2, 0, sim.Message(nil))           // not a Voter

	v := a.Sent(5, 9, 0, 3, vote("prepare", 3, 7, 0x11))
	require.NotNil(t, v)
	require.Equal(t, NameAgreement, v.Checker)
	require.Equal(t, sim.NodeID(0), v.Node)
	require.Equal(t, "n0 cast two votes for one slot, prepare of term 3, index 7: e (to n1, event 1), then 11 (to n3): "+
		"a correct node never takes back a vote, even after a restart", v.Message)

	raft := NewAgreement().(*agreement)
	require.Nil(t, raft.Sent(0, 4, 2, 1, vote("vote", 5, 0, 1)))
	v = raft.Sent(0, 6, 2, 3, vote("vote", 5, 0, 3))
	require.NotNil(t, v)
	require.Contains(t, v.Message, "n2 cast two votes for one slot, vote of term 5: 1 (to n1, event 4), then 3 (to n3)")
}

// TestMonitorExcusesSenders: from when a sender is excused (a replica whose
// disk was corrupted, which forgets its votes by design), its messages are
// not judged; until then they are, and the first violation stops the run.
func TestMonitorExcusesSenders(t *testing.T) {
	var stops []string
	m := NewMonitor([]Invariant{NewAgreement(), NewOneLeaderPerTerm()}, func(r string) { stops = append(stops, r) })
	excused := false
	m.ExcuseSenders(func(id sim.NodeID) bool { return excused && id == 1 })
	m.Sent(0, 1, 1, 0, vote("vote", 1, 0, 0))
	excused = true
	m.Sent(0, 2, 1, 2, vote("vote", 1, 0, 2))
	require.Empty(t, m.Violations(), "an excused sender's second vote")
	m.Sent(0, 3, 2, 0, vote("vote", 1, 0, 0))
	m.Sent(0, 4, 2, 3, vote("vote", 1, 0, 3))
	require.Len(t, m.Violations(), 1)
	require.Len(t, stops, 1)
	require.Contains(t, stops[0], "n2 cast two votes for one slot")
}

// TestVotesKeepAWindow: a long term's votes far behind the highest index
// are forgotten, so memory stays flat; the recent ones are still judged.
func TestVotesKeepAWindow(t *testing.T) {
	a := NewAgreement().(*agreement)
	last := uint64(3*voteWindow + 10)
	for i := uint64(1); i <= last; i++ {
		require.Nil(t, a.Sent(0, i, 0, 1, vote("prepare", 1, i, 0xa)))
	}
	s := a.votes.byNode[0][0]
	require.LessOrEqual(t, len(s.byIndex), 2*voteWindow+1)
	require.Nil(t, a.Sent(0, 0, 0, 1, vote("prepare", 1, 5, 0xb)), "far behind: forgotten")
	require.NotNil(t, a.Sent(0, 0, 0, 1, vote("prepare", 1, last-1, 0xb)), "recent: judged")
}

// TestJudgingAVoteAllocatesNothing: every prepare and commit a replica
// broadcasts passes through Sent, so the copies of a known vote must cost
// no allocation.
func TestJudgingAVoteAllocatesNothing(t *testing.T) {
	a := NewAgreement().(*agreement)
	var m sim.Message = vote("prepare", 1, 7, 3)
	a.Sent(0, 1, 0, 1, m)
	require.Zero(t, testing.AllocsPerRun(100, func() { a.Sent(0, 1, 0, 2, m) }))
}

// TestVotesJudgeEveryVoteOfAMessage: a message casting several votes is a
// violation if any of them takes back an earlier one, whatever follows it in
// the message; and a vote exactly voteWindow below the highest index is
// still judged (only the ones further behind are forgotten).
func TestVotesJudgeEveryVoteOfAMessage(t *testing.T) {
	a := NewAgreement().(*agreement)
	require.Nil(t, a.Sent(0, 1, 0, 1, vote("prepare", 1, 7, 0xa)))
	two := ballot{kind: "prepare", term: 1, values: map[uint64]uint64{7: 0xb, 8: 0xc}, order: []uint64{7, 8}}
	v := a.Sent(0, 2, 0, 1, two)
	require.NotNil(t, v, "the first vote of the message takes back an earlier one")
	require.Contains(t, v.Message, "prepare of term 1, index 7: a (to n1, event 1), then b (to n1)")

	b := NewAgreement().(*agreement)
	require.Nil(t, b.Sent(0, 1, 0, 1, vote("prepare", 1, 7, 0xa)))
	last := ballot{kind: "prepare", term: 1, values: map[uint64]uint64{8: 0xc, 7: 0xb}, order: []uint64{8, 7}}
	v = b.Sent(0, 2, 0, 1, last)
	require.NotNil(t, v, "the second vote of the message takes back an earlier one")
	require.Contains(t, v.Message, "prepare of term 1, index 7: a (to n1, event 1), then b (to n1)")

	w := NewAgreement().(*agreement)
	top := uint64(2*voteWindow + 1) // one more than the series holds before it forgets
	for i := uint64(1); i <= top; i++ {
		require.Nil(t, w.Sent(0, i, 0, 1, vote("prepare", 1, i, 0xa)))
	}
	require.NotNil(t, w.Sent(0, 0, 0, 1, vote("prepare", 1, top-voteWindow, 0xb)), "exactly voteWindow behind: still judged")
	require.Nil(t, w.Sent(0, 0, 0, 1, vote("prepare", 1, top-voteWindow-1, 0xb)), "further behind: forgotten")
}
