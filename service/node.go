package service

import (
	"bytes"

	"github.com/simrun/simrun/sim"
)

// InvariantViolation is the message a protocol's node panics with when one
// of its own invariants fails, "raft: invariant violated at n2: what
// (term=3 role=leader)": the kernel reports the panic as a protocol crash,
// with the seed to replay it. state describes the node as TraceLine fields
// (" term=3 role=leader"); the message shows it in parentheses.
func InvariantViolation(protocol string, id sim.NodeID, what string, state sim.TraceLine) string {
	b := append([]byte(protocol), ": invariant violated at "...)
	b = append(b, id.String()...)
	b = append(append(b, ": "...), what...)
	b = append(append(b, " ("...), bytes.TrimPrefix(state, []byte(" "))...)
	return string(append(b, ')'))
}

// MustBeServer panics unless id is a server standing at its own index of
// servers, "raft: node n7 is not a server": a protocol's node indexes its
// per-peer state by node ID, so a node placed anywhere else is a wiring
// mistake of the caller, not a run to judge.
func MustBeServer(protocol string, id sim.NodeID, servers []sim.NodeID) {
	if int(id) >= len(servers) || servers[id] != id {
		panic(protocol + ": node " + id.String() + " is not a server")
	}
}

// PendingReplies is a leader's record of the clients waiting for an answer,
// by client: the command (by its sequence number) the leader ordered for
// each, where in its log, and which node to answer. A client has at most one
// command outstanding, so one entry per client is all it takes.
type PendingReplies map[sim.NodeID]pendingReply

type pendingReply struct {
	seq, at uint64
	to      sim.NodeID
}

// Add notes that the leader ordered cmd at position at of its log and owes
// node to the answer.
func (p PendingReplies) Add(cmd Command, at uint64, to sim.NodeID) {
	p[cmd.Client] = pendingReply{seq: cmd.Seq, at: at, to: to}
}

// Waiting returns where cmd was ordered if its client still waits for it.
func (p PendingReplies) Waiting(cmd Command) (at uint64, ok bool) {
	r, ok := p[cmd.Client]
	if !ok || r.seq != cmd.Seq {
		return 0, false
	}
	return r.at, true
}

// Answer marks cmd answered and returns the node to answer; ok is false if
// no one waits for it (another leader ordered it, or it was answered).
func (p PendingReplies) Answer(cmd Command) (to sim.NodeID, ok bool) {
	if _, ok := p.Waiting(cmd); !ok {
		return sim.None, false
	}
	to = p[cmd.Client].to
	delete(p, cmd.Client)
	return to, true
}
