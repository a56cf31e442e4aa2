package raft

import (
	"hash/fnv"
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Entry is one log entry: a command and the term in which a leader created it
// (Raft §5.3).
type Entry struct {
	Term uint64
	Cmd  service.Command
}

// appendTrace appends "<term>:noop", "<term>:config(n0 n1 n2)" or
// "<term>:<client>.<seq>": a command is identified by its session and
// sequence number, and its operation appears in the trace once, in the
// client's Request, not in every MsgApp that carries it.
func (e Entry) appendTrace(b []byte) []byte {
	b = strconv.AppendUint(b, e.Term, 10)
	switch {
	case e.Cmd.IsNoop():
		return append(b, ":noop"...)
	case isConfigCommand(e.Cmd):
		b = append(append(b, ":config("...), decodeConfig(e.Cmd).String()...)
		return append(b, ')')
	}
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(e.Cmd.Client), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, e.Cmd.Seq, 10)
}

// appendDigest appends e's binary form: what appendTrace shows, the
// configuration as its encoding.
func (e Entry) appendDigest(f sim.DigestForm) sim.DigestForm {
	f = f.Uint(e.Term).Node(e.Cmd.Client).Uint(e.Cmd.Seq)
	if isConfigCommand(e.Cmd) {
		f = f.Bytes(e.Cmd.Op)
	}
	return f
}

// MsgVote is the RequestVote RPC (Raft §5.2, Figure 2): the sender is the
// candidate and asks for a vote in Term. LastIndex and LastTerm describe its
// log, for the up-to-date check of §5.4.1. Transfer says the candidate
// campaigns on its leader's MsgTimeoutNow (thesis §3.10): voters then waive
// the guards against disruptive servers (a leader heard recently), not the
// log check.
type MsgVote struct {
	Term      uint64
	LastIndex uint64
	LastTerm  uint64
	Transfer  bool
}

// AppendTrace implements sim.Message.
func (m MsgVote) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgVote").Uint("term", m.Term).Uint("last-index", m.LastIndex).
		Uint("last-term", m.LastTerm)
	if m.Transfer {
		b = append(b, " transfer"...)
	}
	return b
}

// MsgVoteResp answers a MsgVote: Term is the voter's current term, for the
// candidate to update itself (Raft §5.1).
type MsgVoteResp struct {
	Term    uint64
	Granted bool
}

// AppendTrace implements sim.Message.
func (m MsgVoteResp) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgVoteResp").Uint("term", m.Term)
	if m.Granted {
		return append(b, " granted"...)
	}
	return append(b, " rejected"...)
}

// EachVote implements sim.Voter: a vote granted is the server's one vote of
// the term (Raft §5.2), for the candidate it answers.
func (m MsgVoteResp) EachVote(to sim.NodeID, fn func(sim.Vote)) {
	if m.Granted {
		fn(sim.Vote{Kind: "vote", Term: m.Term, Value: uint64(to)})
	}
}

// MsgApp is the AppendEntries RPC (Raft §5.3, Figure 2), also the heartbeat
// when Entries is empty. Entries follow the entry at PrevIndex, whose term is
// PrevTerm; Commit is the leader's commit index.
//
// Entries is shared with the sender's log and must never be modified: the
// sender never writes to an array it has sent (see entryLog).
type MsgApp struct {
	Term      uint64
	PrevIndex uint64
	PrevTerm  uint64
	Commit    uint64
	Entries   []Entry
}

// AppendTrace implements sim.Message.
func (m MsgApp) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgApp").Uint("term", m.Term).Uint("prev-index", m.PrevIndex).
		Uint("prev-term", m.PrevTerm).Uint("commit", m.Commit)
	if len(m.Entries) == 0 {
		return b
	}
	b = append(b, " entries=["...)
	for i, e := range m.Entries {
		if i > 0 {
			b = append(b, ' ')
		}
		b = e.appendTrace(b)
	}
	return append(b, ']')
}

// AppendDigest implements sim.Digester: an AppendEntries is the most
// frequent message of a run, and its text the costliest to format.
func (m MsgApp) AppendDigest(b []byte) []byte {
	f := sim.DigestForm(b).Kind("MsgApp").Uint(m.Term).Uint(m.PrevIndex).Uint(m.PrevTerm).Uint(m.Commit).
		Uint(uint64(len(m.Entries)))
	for _, e := range m.Entries {
		f = e.appendDigest(f)
	}
	return f
}

// MsgAppResp answers a MsgApp. On success Index is the last index the
// follower now knows to match the leader's log (PrevIndex plus the entries).
// On rejection Index is the rejected PrevIndex, and the conflict hint lets the
// leader skip back a whole term at a time instead of one entry per round trip
// (the optimization sketched at the end of Raft §5.3): ConflictTerm is the
// follower's term at PrevIndex (0 if its log is shorter) and ConflictIndex the
// first index it holds of that term (or its last index plus one). A MsgApp of
// a stale term is rejected with ConflictIndex 0: that answer only carries the
// follower's term (Raft §5.1), and says nothing about its log.
type MsgAppResp struct {
	Term          uint64
	Index         uint64
	Reject        bool
	ConflictTerm  uint64
	ConflictIndex uint64
}

// AppendTrace implements sim.Message.
func (m MsgAppResp) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgAppResp").Uint("term", m.Term).If(m.Reject, "reject", "").Uint("index", m.Index)
	if m.Reject {
		b = sim.TraceLine(b).Uint("conflict-term", m.ConflictTerm).
			Uint("conflict-index", m.ConflictIndex)
	}
	return b
}

// AppendDigest implements sim.Digester, for the answer to every MsgApp.
func (m MsgAppResp) AppendDigest(b []byte) []byte {
	return sim.DigestForm(b).Kind("MsgAppResp").Uint(m.Term).Bool(m.Reject).Uint(m.Index).
		Uint(m.ConflictTerm).Uint(m.ConflictIndex)
}

// MessageTerm implements sim.Termed: every Raft message carries its
// sender's term (§5.1), and only a leader sends AppendEntries (§5.3).
func (m MsgVote) MessageTerm() (uint64, bool) { return m.Term, false }

// RequestsVotes implements sim.VoteRequest: a server may disregard a MsgVote
// of a higher term while a leader is alive (membership.go, reads.go).
func (MsgVote) RequestsVotes() {}

// MessageTerm implements sim.Termed.
func (m MsgVoteResp) MessageTerm() (uint64, bool) { return m.Term, false }

// MessageTerm implements sim.Termed.
func (m MsgApp) MessageTerm() (uint64, bool) { return m.Term, true }

// MessageTerm implements sim.Termed.
func (m MsgAppResp) MessageTerm() (uint64, bool) { return m.Term, false }

// MsgHeartbeat is a leader's leadership check (Raft thesis §6.4), sent only
// in the read-index and lease read modes: Round numbers the leader's rounds
// of its term, and a follower of Term echoes it. It carries no entries and
// no commit index: replication stays with MsgApp.
type MsgHeartbeat struct {
	Term  uint64
	Round uint64
}

// AppendTrace implements sim.Message.
func (m MsgHeartbeat) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgHeartbeat").Uint("term", m.Term).Uint("round", m.Round)
}

// MsgHeartbeatResp answers a MsgHeartbeat: the follower was still in Term,
// following the sender, when Round reached it.
type MsgHeartbeatResp struct {
	Term  uint64
	Round uint64
}

// AppendTrace implements sim.Message.
func (m MsgHeartbeatResp) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgHeartbeatResp").Uint("term", m.Term).Uint("round", m.Round)
}

// MessageTerm implements sim.Termed: only a leader checks its leadership.
func (m MsgHeartbeat) MessageTerm() (uint64, bool) { return m.Term, true }

// MessageTerm implements sim.Termed.
func (m MsgHeartbeatResp) MessageTerm() (uint64, bool) { return m.Term, false }

// MsgPreVote asks whether the receiver would vote for the sender in term
// Next (thesis §9.6), without changing anyone's state: Term is the sender's
// current term, which it keeps. LastIndex and LastTerm describe its log.
type MsgPreVote struct {
	Term      uint64
	Next      uint64
	LastIndex uint64
	LastTerm  uint64
}

// AppendTrace implements sim.Message.
func (m MsgPreVote) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgPreVote").Uint("term", m.Term).Uint("next", m.Next).
		Uint("last-index", m.LastIndex).Uint("last-term", m.LastTerm)
}

// MsgPreVoteResp answers a MsgPreVote: Term is the voter's current term,
// Next echoes the term asked about, Granted says it would vote.
type MsgPreVoteResp struct {
	Term    uint64
	Next    uint64
	Granted bool
}

// AppendTrace implements sim.Message.
func (m MsgPreVoteResp) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgPreVoteResp").Uint("term", m.Term).Uint("next", m.Next).
		If(m.Granted, "granted", "rejected")
}

// MsgTimeoutNow is a leader's hand-over (thesis §3.10): the receiver, whose
// log the leader has brought up to date, campaigns at once.
type MsgTimeoutNow struct {
	Term uint64
}

// AppendTrace implements sim.Message.
func (m MsgTimeoutNow) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgTimeoutNow").Uint("term", m.Term)
}

// MessageTerm implements sim.Termed: the sender's current term, not the one
// it asks about.
func (m MsgPreVote) MessageTerm() (uint64, bool) { return m.Term, false }

// RequestsVotes implements sim.VoteRequest: a server disregards a pre-vote
// from outside its configuration while a leader is alive (membership.go),
// as it does a vote request, and keeps its term.
func (MsgPreVote) RequestsVotes() {}

// MessageTerm implements sim.Termed.
func (m MsgPreVoteResp) MessageTerm() (uint64, bool) { return m.Term, false }

// MessageTerm implements sim.Termed: only a leader hands its leadership over.
func (m MsgTimeoutNow) MessageTerm() (uint64, bool) { return m.Term, true }

// MsgSnapshot is the InstallSnapshot RPC (Raft §7; thesis §5.1, sent whole,
// not in chunks): a leader whose follower needs entries it compacted sends
// its snapshot instead. Index and LastTerm are the snapshot's last entry,
// Digest that entry's command digest (installing is observed as applying
// Index), Conf the configuration in force at Index, Data the state machine
// and client sessions (service.Sessions.Snapshot). Data is never modified
// once the snapshot is taken, so the message may share it.
type MsgSnapshot struct {
	Term     uint64
	Index    uint64
	LastTerm uint64
	Digest   uint64
	Conf     configuration
	Data     []byte
}

// AppendTrace implements sim.Message: "MsgSnapshot term=4 index=40
// last-term=3 digest=1f.. voters=n0,n1,n2 bytes=212 data=9f1c..". The
// bytes are not readable; their hash keeps the trace hash faithful.
func (m MsgSnapshot) AppendTrace(b []byte) []byte {
	h := fnv.New64a()
	h.Write(m.Data)
	b = sim.TraceLine(b).Kind("MsgSnapshot").Uint("term", m.Term).Uint("index", m.Index).
		Uint("last-term", m.LastTerm).Hex("digest", m.Digest).Members("voters", m.Conf.voters)
	if m.Conf.joint() {
		b = sim.TraceLine(b).Members("outgoing", m.Conf.outgoing)
	}
	return sim.TraceLine(b).Int("bytes", int64(len(m.Data))).Hex("data", h.Sum64())
}

// MessageTerm implements sim.Termed: only a leader sends its snapshot.
func (m MsgSnapshot) MessageTerm() (uint64, bool) { return m.Term, true }
