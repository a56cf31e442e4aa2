package etcdraft

import (
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/simrun/simrun/sim"
	pb "go.etcd.io/raft/v3/raftpb"
)

// raftID is the etcd-raft ID of a server: etcd reserves 0 for "none".
func raftID(id sim.NodeID) uint64 { return uint64(id) + 1 }

// nodeID is the simrun node of an etcd-raft ID (sim.None for 0).
func nodeID(id uint64) sim.NodeID {
	if id == 0 {
		return sim.None
	}
	return sim.NodeID(id - 1)
}

// Message carries one raftpb.Message between servers. The protobuf travels
// marshalled: the kernel may deliver a message twice and never copies it, and
// a raftpb.Message shares its entries' Data with the sender's log, so the
// sender marshals and every delivery unmarshals a fresh copy. The other
// fields repeat what the trace shows; they are set once, at send.
type Message struct {
	Type       pb.MessageType
	Term       uint64
	LogTerm    uint64
	Index      uint64
	Commit     uint64
	Reject     bool
	RejectHint uint64
	Entries    int    // how many entries, Index+1 .. Index+Entries
	Sum        uint32 // CRC-32C of Data, when there are entries: their content in the trace
	Data       []byte // the marshalled raftpb.Message; never modified
}

// newMessage marshals m for sending.
func newMessage(m *pb.Message) Message {
	data, err := m.Marshal()
	if err != nil {
		panic(fmt.Sprintf("etcdraft: marshal %v: %v", m.Type, err))
	}
	msg := Message{Type: m.Type, Term: m.Term, LogTerm: m.LogTerm, Index: m.Index, Commit: m.Commit,
		Reject: m.Reject, RejectHint: m.RejectHint, Entries: len(m.Entries), Data: data}
	if msg.Entries > 0 {
		msg.Sum = crc32.Checksum(data, castagnoli)
	}
	return msg
}

// decode returns a fresh copy of the raftpb.Message.
func (m Message) decode() (pb.Message, error) {
	var out pb.Message
	err := out.Unmarshal(m.Data)
	return out, err
}

// AppendTrace implements sim.Message: etcd's message name, then the fields
// that are set, in a fixed order ("MsgApp term=3 log-term=2 index=7 commit=5
// entries=2 sum=1a2b3c4d").
func (m Message) AppendTrace(b []byte) []byte {
	b = append(b, m.Type.String()...)
	b = appendField(b, " term=", m.Term)
	b = appendField(b, " log-term=", m.LogTerm)
	b = appendField(b, " index=", m.Index)
	b = appendField(b, " commit=", m.Commit)
	if m.Reject {
		b = append(b, " reject hint="...)
		b = strconv.AppendUint(b, m.RejectHint, 10)
	}
	if m.Entries > 0 {
		b = append(b, " entries="...)
		b = strconv.AppendInt(b, int64(m.Entries), 10)
		b = append(b, " sum="...)
		b = strconv.AppendUint(b, uint64(m.Sum), 16)
	}
	return b
}

// MessageTerm implements sim.Termed, for the runner's leader checks
// (stale-leader, isolated-leader): the term a message carries, and whether
// only that term's leader sends it. A pre-vote's term, asked or granted, is
// not in force anywhere (etcd-raft sends a granted pre-vote answer with the
// term the candidate would take): such messages carry none here.
func (m Message) MessageTerm() (term uint64, leader bool) {
	switch m.Type {
	case pb.MsgApp, pb.MsgHeartbeat, pb.MsgSnap, pb.MsgTimeoutNow:
		return m.Term, true
	case pb.MsgPreVote, pb.MsgPreVoteResp:
		return 0, false
	}
	return m.Term, false
}

// VoteRequest is a Message asking for a vote or a pre-vote, of a type of
// its own so that the runner tells it from the rest (sim.VoteRequest): a
// server may rightly disregard a candidate's term while it knows a leader
// (etcd-raft's check-quorum lease), and a server still asking when a
// healed cluster's leader settles may rightly be granted its election.
type VoteRequest struct{ Message }

// RequestsVotes implements sim.VoteRequest.
func (VoteRequest) RequestsVotes() {}

// wire is m as it is sent: a VoteRequest for MsgVote and MsgPreVote, else
// a Message.
func wire(m *pb.Message) sim.Message {
	msg := newMessage(m)
	if m.Type == pb.MsgVote || m.Type == pb.MsgPreVote {
		return VoteRequest{msg}
	}
	return msg
}

// EachVote implements sim.Voter: a vote etcd-raft granted (a MsgVoteResp
// that does not reject) is the server's one vote of its term, for the
// candidate it answers; the agreement check sees a server that votes twice
// in a term, as an adapter that loses its HardState before a restart makes
// it. Pre-vote answers bind nothing.
func (m Message) EachVote(to sim.NodeID, fn func(sim.Vote)) {
	if m.Type == pb.MsgVoteResp && !m.Reject {
		fn(sim.Vote{Kind: "vote", Term: m.Term, Value: uint64(to)})
	}
}

func appendField(b []byte, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, name...)
	return strconv.AppendUint(b, v, 10)
}
