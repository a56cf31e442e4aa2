package raft

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// handleRequest serves a client's command. Only the leader orders commands
// (Raft §8); others point the client at the leader they know. By default
// reads are commands too: they go through the log, which makes them
// linearizable without leases; Config.ReadMode serves them outside it.
func (n *node) handleRequest(from sim.NodeID, cmd service.Command) {
	if n.role != roleLeader {
		if n.bugs.Has(staleFollowerReads) && n.serveLocalRead(from, cmd) {
			return
		}
		if n.bugs.Has(followerWriteCache) && n.serveFromWriteCache(from, cmd) {
			return
		}
		n.probe(ProbeNotLeaderRedirect)
		n.send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusNotLeader, Leader: n.leaderHint()})
		return
	}
	if cmd.IsNoop() || cmd.Seq < n.sessions.LastApplied(cmd.Client) {
		return // not a client command, or the client has moved on
	}
	if n.transferring() {
		n.refuseDuringTransfer(from, cmd) // thesis §3.10: no new requests while handing over
		return
	}
	if n.bugs.Has(leaderLocalReads) && n.serveLocalRead(from, cmd) {
		return
	}
	if n.offLogRead(from, cmd) {
		return // read-index or lease (reads.go)
	}
	if n.isPending(cmd) {
		return // a retry of a command this leader already appended: its reply follows the apply
	}
	if n.bugs.Has(partialTransactions) && n.startSplit(from, cmd) {
		return
	}
	if n.env.Buggify(buggifyIgnoreRequest) {
		return // as if the request were lost: the client retries
	}
	// A retry of a command applied before, or appended by an earlier leader,
	// is appended again: Sessions applies it once and returns the cached
	// result to the later copy (Raft §8, client sessions).
	n.appendEntry(Entry{Term: n.term, Cmd: cmd})
	n.pending.Add(cmd, n.lastIndex(), from)
	n.broadcastAppend()
	n.maybeCommit() // a one-server cluster commits at once
}

// isPending reports whether cmd sits in this leader's log, appended by it and
// not applied yet.
func (n *node) isPending(cmd service.Command) bool {
	index, ok := n.pending.Waiting(cmd)
	if !ok || index <= n.applied || index > n.lastIndex() {
		return false
	}
	at := n.entryAt(index).Cmd
	return at.Client == cmd.Client && at.Seq == cmd.Seq
}

// replyApplied answers the client waiting for cmd, which was just applied with
// result. The reply follows from what was applied at this index, not from what
// was appended, so a command overwritten in the log is never acknowledged.
func (n *node) replyApplied(cmd service.Command, result []byte) {
	if to, ok := n.pending.Answer(cmd); ok {
		n.send(to, n.replies.New(service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result}))
	}
}
