package checkers

import (
	"fmt"

	"github.com/simrun/simrun/sim"
)

// The agreement check's judgement of votes (sim.Voter): a correct node never
// casts two votes for one slot (a Raft server's vote in a term, a Paxos
// leader's proposal for a slot of its ballot, a PBFT replica's pre-prepare,
// prepare or commit for a view and sequence number), whether or not it
// restarted in between. The same vote again is a retransmission.

// seriesVotes holds one node's votes of one kind in the latest term it
// voted in, by index. Older terms are forgotten when a newer one begins, and
// within a term the indexes more than voteWindow below the highest one, so
// that memory stays flat however long a term lasts (an hour of one PBFT
// view is a million sequence numbers per replica and kind): a vote of an
// older term, or that far behind, sent later goes unjudged. A protocol's
// votes move forward with its log; PBFT's stay within its log window.
type seriesVotes struct {
	kind     string
	term     uint64
	maxIndex uint64
	byIndex  map[uint64]castVote
	// last is the latest vote recorded: a vote is sent to every peer in
	// turn, and the copies after the first are the same vote.
	lastIndex uint64
	last      castVote
	hasLast   bool
}

// castVote is a vote as first cast, for reports.
type castVote struct {
	value uint64
	to    sim.NodeID
	event uint64
}

// votes is the vote ledger of the agreement check: by node, its series, one
// per kind (a protocol has one to three kinds: a scan beats a hash).
type votes struct {
	byNode [][]*seriesVotes
	// The scratch of Sent: the message at hand, the callback that records
	// its votes, and the violation they revealed, if any.
	at       sim.Time
	event    uint64
	from, to sim.NodeID
	each     func(sim.Vote)
	found    *Violation
}

// Sent implements MessageJudge: it records the votes msg casts and reports
// one that takes back an earlier vote of the same slot.
func (a *agreement) Sent(at sim.Time, event uint64, from, to sim.NodeID, msg sim.Message) *Violation {
	v, ok := msg.(sim.Voter)
	if !ok {
		return nil
	}
	l := &a.votes
	if l.each == nil {
		l.each = l.castEach // one method value for the run: a closure per message would allocate
	}
	l.found, l.at, l.event, l.from, l.to = nil, at, event, from, to
	v.EachVote(to, l.each)
	return l.found
}

// castEach is the callback of Sent, for one vote of the message at hand.
func (l *votes) castEach(vote sim.Vote) {
	if l.found == nil {
		l.found = l.cast(l.at, l.event, l.from, l.to, vote)
	}
}

// cast records vote, cast by from for to, and returns the violation if it
// differs from from's earlier vote for the same slot.
func (l *votes) cast(at sim.Time, event uint64, from, to sim.NodeID, vote sim.Vote) *Violation {
	s := l.seriesOf(from, vote)
	switch {
	case vote.Term > s.term:
		s.term, s.byIndex, s.hasLast, s.maxIndex = vote.Term, map[uint64]castVote{}, false, 0
	case vote.Term < s.term:
		return nil
	case s.hasLast && vote.Index == s.lastIndex && vote.Value == s.last.value:
		return nil // the same vote to another peer
	}
	now := castVote{value: vote.Value, to: to, event: event}
	prev, seen := s.byIndex[vote.Index]
	if !seen {
		s.byIndex[vote.Index], s.lastIndex, s.last, s.hasLast = now, vote.Index, now, true
		s.maxIndex = max(s.maxIndex, vote.Index)
		s.forgetFarBehind()
		return nil
	}
	if prev.value == vote.Value {
		return nil
	}
	return &Violation{Checker: NameAgreement, Event: event, At: at, Node: from,
		Message: fmt.Sprintf("%v cast two votes for one slot, %s: %x (to %v, event %d), then %x (to %v): "+
			"a correct node never takes back a vote, even after a restart", from, slotName(vote), prev.value, prev.to,
			prev.event, vote.Value, to)}
}

// voteWindow is how far below a series' highest index its votes are kept at
// least: far past a protocol's own window of votes in flight (PBFT's log
// window, Paxos's alpha, 64 each by default), while a series holds at most
// twice as many records, about 0.6 MB.
const voteWindow = 1 << 12

// forgetFarBehind drops the votes more than voteWindow below the highest
// index once the series holds twice that many: amortized, a constant per
// vote.
func (s *seriesVotes) forgetFarBehind() {
	if len(s.byIndex) <= 2*voteWindow || s.maxIndex < voteWindow {
		return
	}
	floor := s.maxIndex - voteWindow
	//simrun:allow only deletes, each decided by its own key: what remains does not depend on the order
	for i := range s.byIndex {
		if i < floor {
			delete(s.byIndex, i)
		}
	}
}

// seriesOf returns from's series of vote's kind, made for vote's term if
// from cast none of that kind yet.
func (l *votes) seriesOf(from sim.NodeID, vote sim.Vote) *seriesVotes {
	all := nodeSlot(&l.byNode, from)
	for _, s := range *all {
		if s.kind == vote.Kind {
			return s
		}
	}
	s := &seriesVotes{kind: vote.Kind, term: vote.Term, byIndex: map[uint64]castVote{}}
	*all = append(*all, s)
	return s
}

// slotName is "vote of term 5" or "prepare of term 2, index 17".
func slotName(v sim.Vote) string {
	if v.Index == 0 {
		return fmt.Sprintf("%s of term %d", v.Kind, v.Term)
	}
	return fmt.Sprintf("%s of term %d, index %d", v.Kind, v.Term, v.Index)
}
