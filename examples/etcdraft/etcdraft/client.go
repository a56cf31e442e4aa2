package etcdraft

import (
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// pendingReply remembers that a client (node to) waits for its command seq,
// which this leader proposed in term.
type pendingReply struct {
	seq  uint64
	to   sim.NodeID
	term uint64
}

// handleRequest serves a client's command. Only the leader proposes (Raft
// §8: clients send their requests to the leader; a server that does not lead
// points at the one it knows). Reads are commands too: they go through the
// log, which makes them linearizable without leases.
func (s *server) handleRequest(from sim.NodeID, cmd service.Command) {
	if s.role != raft.StateLeader {
		s.env.Send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusNotLeader, Leader: s.lead})
		return
	}
	if cmd.IsNoop() || cmd.Seq < s.sessions.LastApplied(cmd.Client) {
		return // not a client command, or the client has moved on
	}
	if s.bugs.Has(localReads) && s.serveLocalRead(from, cmd) {
		return
	}
	if p, ok := s.pending[cmd.Client]; ok && p.seq == cmd.Seq && p.term == s.term {
		return // a retry of a command this leader proposed: its reply follows the apply
	}
	// A retry of a command applied before, or proposed by an earlier
	// leader, is proposed again: Sessions runs it once and answers the later
	// copy with the cached result (Raft §8, client sessions).
	var err error
	data := cmd.AppendBinary(nil)
	s.pin(func() { err = s.rn.Propose(data) })
	if err != nil {
		return // raft.ErrProposalDropped (a leadership transfer): the client retries
	}
	s.pending[cmd.Client] = pendingReply{seq: cmd.Seq, to: from, term: s.term}
}

// apply applies committed entries in log order, announcing each to the
// checkers (sim.ObsCommit, then sim.ObsApply, with the entry's term, its
// command's digest and its result's, as simrun's own Raft does), and answers
// the client that waits for it.
func (s *server) apply(entries []pb.Entry) {
	for i := range entries {
		e := &entries[i]
		if e.Type != pb.EntryNormal {
			panic("etcdraft: a configuration change was committed, but no server proposes one")
		}
		cmd := decodeCommand(e.Data)
		digest := cmd.Digest()
		s.env.Observe(sim.Observation{Kind: sim.ObsCommit, Term: e.Term, Index: e.Index, Digest: digest})
		result, outcome := s.sessions.Apply(cmd)
		s.env.Observe(sim.Observation{Kind: sim.ObsApply, Term: e.Term, Index: e.Index, Digest: digest,
			Result: service.ResultDigest(result)})
		if outcome == service.Applied || outcome == service.Duplicate && !s.bugs.Has(noDuplicateReply) {
			s.reply(cmd, result)
		}
	}
}

// decodeCommand decodes an entry's data: a service.Command, or nothing for
// the empty entry a new etcd-raft leader appends (Raft §8), a no-op.
func decodeCommand(data []byte) service.Command {
	if len(data) == 0 {
		return service.Noop
	}
	cmd, rest, err := service.ReadCommand(data)
	if err != nil || len(rest) != 0 {
		panic("etcdraft: a committed entry does not hold a command")
	}
	return cmd
}

// reply answers the client waiting for cmd, which was just applied with
// result. The reply follows from what was applied, not from what was
// proposed, so a proposal lost with its leader's term is never acknowledged.
func (s *server) reply(cmd service.Command, result []byte) {
	p, ok := s.pending[cmd.Client]
	if !ok || p.seq != cmd.Seq {
		return
	}
	delete(s.pending, cmd.Client)
	s.env.Send(p.to, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
}

// serveLocalRead is the planted bug local-reads: the leader answers a read
// from its own applied state, outside the log and every client's session,
// without confirming it still leads. It reports whether it answered.
func (s *server) serveLocalRead(from sim.NodeID, cmd service.Command) bool {
	result, ok := s.sessions.Read(cmd.Op)
	if !ok {
		return false
	}
	s.env.Send(from, service.Reply{Client: cmd.Client, Seq: cmd.Seq, Status: service.StatusOK, Result: result})
	return true
}
