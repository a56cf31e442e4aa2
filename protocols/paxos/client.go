package paxos

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// handleRequest serves a client's command. Only the leader proposes (PMS §3:
// the distinguished proposer); others point the client at the leader they
// know. Reads are commands too: they are chosen in a slot and answered when
// applied, which makes them linearizable without leases.
func (n *node) handleRequest(from sim.NodeID, cmd service.Command) {
	if n.role != roleLeader {
		n.probe(ProbeNotLeaderRedirect)
		lead := n.lead
		if n.role == roleProposer {
			lead = sim.None
		}
		n.send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusNotLeader, Leader: lead})
		return
	}
	if cmd.IsNoop() || cmd.Seq < n.sessions.LastApplied(cmd.Client) {
		return // not a client command, or the client has moved on
	}
	if n.isPending(cmd) {
		return // a retry of a command this leader proposed: its reply follows the apply
	}
	if n.env.Buggify(buggifyIgnoreRequest) {
		return // as if the request were lost: the client retries
	}
	// A retry of a command applied before, or proposed by an earlier leader,
	// is proposed again: Sessions applies it once and returns the cached
	// result to the later copy. It waits in the queue while the window is
	// full or the old configuration's rest is filled after a change.
	n.enqueue(cmd)
	n.fillWindow() // which announces and applies what a one-member configuration chose at once
}

// enqueue queues cmd for a slot, in place of an earlier command of its
// client still queued (a client has one command outstanding).
func (n *node) enqueue(cmd service.Command) {
	if len(n.queue) > 0 {
		n.probe(ProbeRequestQueued)
	}
	for i, q := range n.queue {
		if q.Client == cmd.Client {
			n.queue[i] = cmd
			return
		}
	}
	n.queue = append(n.queue, cmd)
}

// isPending reports whether cmd sits in a slot this leader proposed it in,
// not applied yet.
func (n *node) isPending(cmd service.Command) bool {
	slot, ok := n.pending.Waiting(cmd)
	if !ok || slot <= n.applied {
		return false
	}
	r := n.rec(slot)
	return r != nil && r.cmd.Client == cmd.Client && r.cmd.Seq == cmd.Seq
}

// replyApplied answers the client waiting for cmd, which was just applied
// with result. The reply follows from what was applied, not from what was
// proposed, so a command that lost its slot is never acknowledged.
func (n *node) replyApplied(cmd service.Command, result []byte) {
	if to, ok := n.pending.Answer(cmd); ok {
		n.send(to, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
	}
}
