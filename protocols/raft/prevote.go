package raft

import (
	"github.com/simrun/simrun/sim"
)

// Pre-vote and check-quorum (Raft thesis §9.6 and §6.2), both off by default.
//
// Pre-vote. A server whose election timeout runs out first asks every other
// server, in a MsgPreVote, whether it would vote for it in the next term. A
// server says yes when the asker's log is at least as up-to-date as its own
// (§5.4.1) and it has not heard from a leader for ElectionTimeoutMin (a
// leader says no). Nobody changes term or vote for a pre-vote; the asker
// campaigns (becomeCandidate) only once a majority, itself included, said
// yes. A server cut off from the leader keeps failing its pre-votes and
// keeps its term, so when it returns it does not depose a leader that was
// doing fine. The messages carry the sender's current term, which the usual
// rules of §5.1 apply to; the term asked about is Next.
//
// Check-quorum. A leader notes when each server last answered it (an
// AppendEntries or heartbeat response of its term: thesis §6.2 asks for a
// successful round of heartbeats; a pre-vote request from a server the
// leader cannot reach proves nothing), and at each heartbeat steps down if
// fewer than a majority (itself included) answered within
// ElectionTimeoutMin: a leader cut off from a majority stops taking
// requests its clients wait on in vain.
// Followers answer every heartbeat then, so an idle cluster's leader hears
// from them too.

// becomePreCandidate starts a pre-vote round for the term after the
// current one (or after a term ignored in lease mode, see seenTerm).
func (n *node) becomePreCandidate() {
	n.assert(n.role != roleLeader, "a leader cannot start a pre-vote")
	n.probe(ProbePreVoteStarted)
	if n.role == roleCandidate {
		n.env.CancelTimer(timerHeartbeat)
	}
	n.preVoteNext = max(n.term, n.seenTerm) + 1
	if n.canvass(rolePreCandidate, stepPreCandidate, tickPreCandidate, n.requestPreVotes) {
		n.becomeCandidate(false) // a one-server cluster
	}
}

// requestPreVotes asks every server that has not said yes. A refusal is
// asked again: a pre-vote changes nothing, and a voter that heard from a
// leader a little later than this server may say yes a moment after.
func (n *node) requestPreVotes() {
	m := MsgPreVote{Term: n.term, Next: n.preVoteNext, LastIndex: n.lastIndex(), LastTerm: n.lastTerm()}
	for id := range n.conf.members().Without(n.id).All() {
		if n.votes[id] != voteGranted {
			n.send(id, m)
		}
	}
}

// tickPreCandidate is a pre-candidate's tick: a new round when this one timed
// out, and the questions asked again meanwhile.
func tickPreCandidate(n *node, kind sim.TimerKind) {
	n.tickElection(kind, n.becomePreCandidate, n.requestPreVotes)
}

// stepPreCandidate handles a message of the current term as a pre-candidate:
// like a follower, it follows a leader of its term (whatever it sends: a
// server behind the leader's compaction gets snapshots only) and votes.
func stepPreCandidate(n *node, from sim.NodeID, m sim.Message) {
	switch m := m.(type) {
	case *MsgApp, MsgHeartbeat, MsgSnapshot:
		n.loseTo(from, m)
	case MsgVote:
		n.handleVote(from, m)
	case MsgPreVote:
		n.handlePreVote(from, m)
	case MsgPreVoteResp:
		n.handlePreVoteResp(from, m)
	}
}

// handlePreVote answers a MsgPreVote of the current term: yes if this server
// would vote for the sender in m.Next as far as it can tell now.
func (n *node) handlePreVote(from sim.NodeID, m MsgPreVote) {
	cand := logPosition{m.LastIndex, m.LastTerm}
	granted := false
	switch {
	case m.Next <= n.term:
		n.probe(ProbePreVoteRejected)
	case n.role == roleLeader || n.heardLeaderWithin():
		n.probe(ProbePreVoteRejectedLeader)
	case !n.upToDate(cand):
		n.probe(ProbePreVoteRejected)
	default:
		n.probe(ProbePreVoteGranted)
		granted = true
	}
	n.send(from, MsgPreVoteResp{Term: n.term, Next: m.Next, Granted: granted})
}

// handlePreVoteResp tallies an answer to this round; a majority of yeses
// starts the campaign.
func (n *node) handlePreVoteResp(from sim.NodeID, m MsgPreVoteResp) {
	if m.Next != n.preVoteNext {
		return // an answer to an earlier round
	}
	n.recordVote(from, m.Granted)
	if n.wonVotes() {
		n.probe(ProbePreVoteWon)
		n.becomeCandidate(false)
	}
}

// heardLeaderWithin reports whether this server heard from a leader (or
// restarted) less than ElectionTimeoutMin ago on its clock: a leader may
// well be alive, so it will not help start an election.
func (n *node) heardLeaderWithin() bool {
	now := n.env.Now()
	if now < n.heardLeader {
		n.heardLeader = now // the clock was stepped back: wait the full timeout from now
	}
	return now.Sub(n.heardLeader) < n.cfg.ElectionTimeoutMin
}

// campaign starts an election the way the configuration says: a pre-vote
// round first, or a new term at once.
func (n *node) campaign() {
	if n.cfg.PreVote {
		n.becomePreCandidate()
		return
	}
	n.becomeCandidate(false)
}

// heardFrom notes, for check-quorum, that a server answered the leader.
func (n *node) heardFrom(id sim.NodeID) {
	if n.cfg.CheckQuorum {
		n.heard[id] = n.env.Now()
	}
}

// quorumActive reports whether a majority, the leader included, was heard
// from within ElectionTimeoutMin.
func (n *node) quorumActive() bool {
	now := n.env.Now()
	return n.conf.quorum(func(id sim.NodeID) bool {
		if id == n.id {
			return true
		}
		if now < n.heard[id] {
			n.heard[id] = now // the clock was stepped back
		}
		return now.Sub(n.heard[id]) < n.cfg.ElectionTimeoutMin
	})
}

// checkQuorum steps a leader down that has not heard from a majority within
// ElectionTimeoutMin, and reports whether it did.
func (n *node) checkQuorum() bool {
	if !n.cfg.CheckQuorum || n.quorumActive() {
		return false
	}
	n.probe(ProbeCheckQuorumStepDown)
	n.becomeFollower(n.term, sim.None)
	return true
}
