package raft

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// persistHardState writes currentTerm and votedFor (Raft Figure 2); flush
// syncs them before the next send.
func (n *node) persistHardState() {
	vote := n.vote
	if n.bugs.Has(forgetVote) {
		vote = sim.None // planted bug: the vote lives only in memory
	}
	b := encodeHardState(hardState{term: n.term, vote: vote, lost: n.lost, snap: n.snap.position()})
	service.PutCopies(n.env.Disk(), b, hardStateKeys[:]...)
	n.hardDirty = true
}

// flush syncs the disk if anything was written. Raft Figure 2: persistent
// state is updated on stable storage before responding to RPCs. Every send
// goes through send, which flushes first, so no message ever leaves ahead of
// the state it depends on (a vote, a term, the entries it acknowledges). The
// kernel applies sends after the handler returns, so syncing inside the
// handler would suffice, but syncing before each send states the rule where
// it matters and survives a kernel that sends at once.
func (n *node) flush() {
	if n.hardDirty || (n.logDirty && !n.bugs.Has(ackBeforeSync)) {
		n.env.Disk().Sync()
		n.hardDirty, n.logDirty = false, false
	}
}

func (n *node) send(to sim.NodeID, m sim.Message) {
	if n.bugs.Has(sendBeforeSync) {
		n.env.Send(to, m) // planted bug: the message leaves first
		n.flush()
		return
	}
	n.flush()
	n.env.Send(to, m)
}

// sendApp and sendAppResp send an AppendEntries and its answer, the most
// frequent messages of a run, by pointer into a slab: a value would be copied
// to the heap, one allocation per message, on its way into a sim.Message.
func (n *node) sendApp(to sim.NodeID, m MsgApp) { n.send(to, n.apps.New(m)) }

func (n *node) sendAppResp(to sim.NodeID, m MsgAppResp) { n.send(to, n.appResps.New(m)) }

// byPointer gives a MsgApp or MsgAppResp delivered as a value (by a test,
// or a user's harness) the pointer form the servers send.
func byPointer(m sim.Message) sim.Message {
	switch v := m.(type) {
	case MsgApp:
		return &v
	case MsgAppResp:
		return &v
	}
	return m
}

// assert panics with a clear message when an invariant fails: the kernel
// reports the panic as a protocol crash, with the seed to replay it.
func (n *node) assert(ok bool, what string) {
	if !ok {
		n.fail(what)
	}
}

func (n *node) fail(what string) {
	state := sim.TraceLine(nil).Uint("term", n.term).Word("role="+n.role.String()).
		Uint("commit", n.commit).Uint("applied", n.applied).Uint("last", n.lastIndex())
	panic(service.InvariantViolation("raft", n.id, what, state))
}

// checkInvariants runs after every handler; every check is O(1).
func (n *node) checkInvariants() {
	n.assert(n.applied <= n.commit, "applied index past the commit index")
	n.assert(n.commit <= n.lastIndex(), "commit index past the end of the log")
	n.assert(n.log.at(0).Term == n.snap.term, "the sentinel entry is not the snapshot's last")
	n.assert(n.snap.index <= n.applied, "a snapshot past the applied index")
	n.assert(n.lastTerm() <= n.term, "an entry from a future term")
	n.assert(n.lastIndex() == n.snap.index || n.termAt(n.snap.index+1) >= n.snap.term,
		"an entry after the snapshot of an older term than the snapshot's last") // terms never fall along a log
	conf := n.latestConfigIndex()
	n.assert(conf <= n.snap.index || conf <= n.lastIndex() && isConfigCommand(n.entryAt(conf).Cmd),
		"the configuration in force is no configuration entry of the log")
	n.assert(!n.hardDirty && (!n.logDirty || n.bugs.Has(ackBeforeSync)), "unsynced writes at the end of a handler")
	n.assert(!n.recovering() || n.role == roleFollower, "a server recovering lost entries stays a follower")
	switch n.role {
	case roleLeader:
		n.assert(n.lead == n.id && n.vote == n.id, "a leader leads and voted for itself")
		n.assert(n.prs[n.id].match == n.lastIndex(), "the leader's own match is its last index")
	case roleCandidate:
		n.assert(n.lead == sim.None && n.vote == n.id, "a candidate knows no leader and voted for itself")
	}
}
