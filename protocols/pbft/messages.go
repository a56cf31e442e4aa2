package pbft

import (
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Messages are named for the paper (Castro and Liskov, OSDI 1999): the
// request is service.Request (§4.1), then MsgPrePrepare, MsgPrepare and
// MsgCommit (§4.2), MsgCheckpoint (§4.3), MsgViewChange and MsgNewView
// (§4.4); replies are service.Reply. MsgStatus, MsgCommitted and MsgState
// are this implementation's retransmission and state transfer, which the
// paper leaves to the implementation (§4.3 "a replica may learn about a
// stable checkpoint beyond its high water mark... it fetches the state").
//
// Statements that end up in certificates carry the signer's sim.Signature
// (pre-prepares, prepares, commits, checkpoints, view changes); the true
// sender of a message is known to the receiver, so the signature matters
// when a message is relayed inside another one. Messages are never modified
// after sending.

// MsgPrePrepare is ⟨PRE-PREPARE, v, n, d⟩ with the request m piggybacked
// (§4.2): the primary of View assigns sequence number Seq to Cmd, whose
// digest is Digest. Sig signs (View, Seq, Digest).
type MsgPrePrepare struct {
	View, Seq, Digest uint64
	Cmd               service.Command
	Sig               sim.Signature
}

// AppendTrace implements sim.Message.
func (m MsgPrePrepare) AppendTrace(b []byte) []byte {
	b = append(b, "MsgPrePrepare"...)
	b = appendVote(b, m.View, m.Seq, m.Digest, m.Sig)
	b = append(b, ' ')
	return m.Cmd.AppendTrace(b)
}

// EachVote implements sim.Voter: a primary assigns a sequence number of its
// view to one request (§4.2).
func (m MsgPrePrepare) EachVote(_ sim.NodeID, fn func(sim.Vote)) {
	fn(sim.Vote{Kind: "pre-prepare", Term: m.View, Index: m.Seq, Value: m.Digest})
}

// AppendDigest implements sim.Digester: the three phases' messages are
// most of a run's, and a pre-prepare carries the request.
func (m MsgPrePrepare) AppendDigest(b []byte) []byte {
	return m.Cmd.AppendDigest(digestVote(b, "MsgPrePrepare", m.View, m.Seq, m.Digest, m.Sig))
}

// SignedVote is what a prepare and a commit say: the sender votes for the
// request with Digest at (View, Seq), and Sig signs that under the phase's
// tag (prepareDigest, commitDigest).
type SignedVote struct {
	View, Seq, Digest uint64
	Sig               sim.Signature
}

// vote is v as a sim.Vote of kind.
func (v SignedVote) vote(kind string) sim.Vote {
	return sim.Vote{Kind: kind, Term: v.View, Index: v.Seq, Value: v.Digest}
}

func (v SignedVote) appendTrace(b []byte, kind string) []byte {
	return appendVote(append(b, kind...), v.View, v.Seq, v.Digest, v.Sig)
}

func (v SignedVote) appendDigest(b []byte, kind string) []byte {
	return digestVote(b, kind, v.View, v.Seq, v.Digest, v.Sig)
}

// MsgPrepare is ⟨PREPARE, v, n, d, i⟩ (§4.2): a backup accepted the
// pre-prepare (View, Seq, Digest).
type MsgPrepare struct{ SignedVote }

// AppendTrace implements sim.Message.
func (m MsgPrepare) AppendTrace(b []byte) []byte { return m.appendTrace(b, "MsgPrepare") }

// AppendDigest implements sim.Digester.
func (m MsgPrepare) AppendDigest(b []byte) []byte { return m.appendDigest(b, "MsgPrepare") }

// EachVote implements sim.Voter: a replica prepares one request per view and
// sequence number (§4.2).
func (m MsgPrepare) EachVote(_ sim.NodeID, fn func(sim.Vote)) { fn(m.vote("prepare")) }

// MsgCommit is ⟨COMMIT, v, n, D(m), i⟩ (§4.2): the sender has the request
// with Digest prepared at (View, Seq). Signed, so that a quorum of commits
// is a commit certificate another replica can check.
type MsgCommit struct{ SignedVote }

// AppendTrace implements sim.Message.
func (m MsgCommit) AppendTrace(b []byte) []byte { return m.appendTrace(b, "MsgCommit") }

// AppendDigest implements sim.Digester.
func (m MsgCommit) AppendDigest(b []byte) []byte { return m.appendDigest(b, "MsgCommit") }

// EachVote implements sim.Voter: a replica commits one request per view and
// sequence number (§4.2).
func (m MsgCommit) EachVote(_ sim.NodeID, fn func(sim.Vote)) { fn(m.vote("commit")) }

// voteMessage is the prepare (tag tagPrepare) or the commit of v.
func voteMessage(tag byte, v SignedVote) sim.Message {
	if tag == tagPrepare {
		return MsgPrepare{v}
	}
	return MsgCommit{v}
}

// MsgCheckpoint is ⟨CHECKPOINT, n, d, i⟩ (§4.3): after executing Seq the
// sender's state has digest Digest.
type MsgCheckpoint struct {
	Seq, Digest uint64
	Sig         sim.Signature
}

// AppendTrace implements sim.Message.
func (m MsgCheckpoint) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgCheckpoint").Uint("seq", m.Seq).Hex("digest", m.Digest)
	b = append(b, " sig="...)
	return appendSig(b, m.Sig)
}

// PreparedCert proves that a request prepared at a replica (§4.2): the
// primary's signed pre-prepare of (View, Seq, D(Cmd)) and 2f signed prepares
// of the same from distinct backups. It is the set Pm of a view-change
// message (§4.4).
type PreparedCert struct {
	View, Seq  uint64
	Cmd        service.Command
	PrePrepare sim.Signature
	Prepares   []sim.Signature
}

func (c PreparedCert) appendTrace(b []byte) []byte {
	b = strconv.AppendUint(appendSeqAtView(b, c.Seq, c.View), c.Cmd.Digest(), 16)
	b = append(b, " pp="...)
	b = appendSig(b, c.PrePrepare)
	return appendSigs(b, " prepares=", c.Prepares)
}

func (c PreparedCert) hash(h hasher) hasher {
	return h.u64(c.View).u64(c.Seq).u64(c.Cmd.Digest()).sig(c.PrePrepare).sigs(c.Prepares)
}

// CommitCert proves that a request committed (§4.2, committed-local): 2f+1
// signed commits of (View, Seq, D(Cmd)) from distinct replicas. A replica
// behind receives these instead of the messages it missed.
type CommitCert struct {
	View, Seq uint64
	Cmd       service.Command
	Commits   []sim.Signature
}

func (c CommitCert) appendTrace(b []byte) []byte {
	b = c.Cmd.AppendTrace(appendSeqAtView(b, c.Seq, c.View))
	return appendSigs(b, " commits=", c.Commits)
}

// appendSeqAtView appends "seq@vview:", where a certificate's request stands,
// ahead of what the certificate shows of it.
func appendSeqAtView(b []byte, seq, view uint64) []byte {
	b = strconv.AppendUint(b, seq, 10)
	b = strconv.AppendUint(append(b, "@v"...), view, 10)
	return append(b, ':')
}

// CheckpointCert proves a stable checkpoint (§4.3): 2f+1 signed checkpoint
// messages for (Seq, Digest) from distinct replicas. Seq 0 is the initial
// state, which needs no proof.
type CheckpointCert struct {
	Seq, Digest uint64
	Proof       []sim.Signature
}

func (c CheckpointCert) appendTrace(b []byte) []byte {
	b = append(b, "seq="...)
	b = strconv.AppendUint(b, c.Seq, 10)
	b = sim.TraceLine(b).Hex("digest", c.Digest)
	return appendSigs(b, " proof=", c.Proof)
}

func (c CheckpointCert) hash(h hasher) hasher { return h.u64(c.Seq).u64(c.Digest).sigs(c.Proof) }

// MsgViewChange is ⟨VIEW-CHANGE, v+1, n, C, P, i⟩ (§4.4): Replica moves to
// View; its last stable checkpoint is Stable (n and C), and Prepared holds,
// for every sequence number above it that prepared at Replica, the
// certificate of the latest view in which it did (P). Sig signs the digest
// of all of it (viewChangeDigest), so a new primary can relay the message in
// MsgNewView.
type MsgViewChange struct {
	View     uint64
	Replica  sim.NodeID
	Stable   CheckpointCert
	Prepared []PreparedCert
	Sig      sim.Signature
}

// MessageTerm implements sim.Termed: the view the sender asks for, which no
// primary holds yet.
func (m MsgViewChange) MessageTerm() (uint64, bool) { return m.View, false }

// RequestsVotes implements sim.VoteRequest: a replica asking for a view
// change. The primary of the current view rightly goes on leading it until
// f+1 replicas ask (§4.5.2), so the view asked for is not one seen. (A view
// change travels on its own only from the replica that asks: relayed ones
// go inside a new-view message.)
func (MsgViewChange) RequestsVotes() {}

// AppendTrace implements sim.Message.
func (m MsgViewChange) AppendTrace(b []byte) []byte {
	b = append(b, "MsgViewChange"...)
	return m.appendBody(b)
}

func (m MsgViewChange) appendBody(b []byte) []byte {
	b = sim.TraceLine(b).Uint("view", m.View).Int("replica", int64(m.Replica))
	b = append(b, " stable "...)
	b = m.Stable.appendTrace(b)
	b = appendList(append(b, " prepared="...), m.Prepared, ", ", PreparedCert.appendTrace)
	b = append(b, " sig="...)
	return appendSig(b, m.Sig)
}

// viewChangeDigest is what the sender of a view-change message signs.
func viewChangeDigest(m *MsgViewChange) uint64 {
	h := newHasher(tagViewChange).u64(m.View).u64(uint64(int64(m.Replica)))
	h = m.Stable.hash(h).u64(uint64(len(m.Prepared)))
	for i := range m.Prepared {
		h = m.Prepared[i].hash(h)
	}
	return uint64(h)
}

// MsgNewView is ⟨NEW-VIEW, v+1, V, O⟩ (§4.4): the primary of View relays
// the 2f+1 view-change messages V it based the view on, and O, its signed
// pre-prepares of View for every sequence number between the latest stable
// checkpoint in V and the highest prepared one: the request of the prepared
// certificate with the highest view, or a null request. A backup recomputes
// O from V and accepts the message only if they match.
type MsgNewView struct {
	View        uint64
	ViewChanges []MsgViewChange
	PrePrepares []MsgPrePrepare
}

// AppendTrace implements sim.Message.
func (m MsgNewView) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgNewView").Uint("view", m.View)
	b = appendList(append(b, " V="...), m.ViewChanges, "; ", MsgViewChange.appendBody)
	return appendList(append(b, " O="...), m.PrePrepares, "; ", MsgPrePrepare.AppendTrace)
}

// MsgStatus tells the other replicas where the sender stands: its View
// (Changing while it waits for that view's new-view message), the last
// sequence number it executed, and its low water mark. A replica that is
// ahead answers with what the sender misses.
type MsgStatus struct {
	View     uint64
	Changing bool
	Exec     uint64
	Stable   uint64
}

// AppendTrace implements sim.Message.
func (m MsgStatus) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgStatus").Uint("view", m.View).If(m.Changing, "changing", "").
		Uint("exec", m.Exec).Uint("stable", m.Stable)
}

// MsgCommitted carries commit certificates to a replica behind: each proves
// its request committed, so the receiver executes it without having seen
// the protocol messages.
type MsgCommitted struct {
	Certs []CommitCert
}

// AppendTrace implements sim.Message.
func (m MsgCommitted) AppendTrace(b []byte) []byte {
	return appendList(append(b, "MsgCommitted certs="...), m.Certs, "; ", CommitCert.appendTrace)
}

// MsgState is state transfer (§4.3): the state after Checkpoint.Seq, as
// service.Sessions.Snapshot bytes, with the digest of the request executed
// at Checkpoint.Seq; the receiver checks them against the checkpoint's
// digest, which 2f+1 replicas signed.
type MsgState struct {
	Checkpoint CheckpointCert
	Last       uint64
	Data       []byte
}

// AppendTrace implements sim.Message.
func (m MsgState) AppendTrace(b []byte) []byte {
	b = append(b, "MsgState "...)
	b = m.Checkpoint.appendTrace(b)
	return sim.TraceLine(b).Hex("last", m.Last).Int("bytes", int64(len(m.Data))).
		Hex("data", uint64(newHasher(0).bytes(m.Data)))
}

func appendVote(b []byte, view, seq, digest uint64, sig sim.Signature) []byte {
	b = sim.TraceLine(b).Uint("view", view).Uint("seq", seq).Hex("digest", digest)
	b = append(b, " sig="...)
	return appendSig(b, sig)
}

// digestVote is appendVote's binary form, for sim.Digester.
func digestVote(b []byte, kind string, view, seq, digest uint64, sig sim.Signature) []byte {
	return sim.DigestForm(b).Kind(kind).Uint(view).Uint(seq).Uint(digest).Node(sig.Signer).Uint(sig.Digest)
}

// appendSig appends "n2:3fa9..": the signer and the digest signed.
func appendSig(b []byte, s sim.Signature) []byte {
	b = append(b, 'n')
	b = strconv.AppendInt(b, int64(s.Signer), 10)
	b = append(b, ':')
	return strconv.AppendUint(b, s.Digest, 16)
}

func appendSigs(b []byte, label string, sigs []sim.Signature) []byte {
	return appendList(append(b, label...), sigs, " ", func(s sim.Signature, b []byte) []byte { return appendSig(b, s) })
}

// appendList appends "[x sep y sep z]", each item by appendItem (a method
// expression such as PreparedCert.appendTrace).
func appendList[T any](b []byte, items []T, sep string, appendItem func(T, []byte) []byte) []byte {
	b = append(b, '[')
	for i, x := range items {
		if i > 0 {
			b = append(b, sep...)
		}
		b = appendItem(x, b)
	}
	return append(b, ']')
}
