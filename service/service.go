package service

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/simrun/simrun/sim"
)

// Command is one replicated command: an opaque operation from a client session.
// A command with Client == sim.None is a no-op (a new leader's first entry, a
// gap filler); it changes no state.
type Command struct {
	Client sim.NodeID
	Seq    uint64 // the client's sequence number, from 1; a retry reuses it
	Op     []byte // opaque to protocols; the state machine interprets it
}

// Noop is the no-op command.
var Noop = Command{Client: sim.None}

// IsNoop reports whether c is a no-op.
func (c Command) IsNoop() bool { return c.Client == sim.None }

// Digest identifies the command for agreement checks: equal commands have equal
// digests, and different commands at one index almost surely do not.
//
// It is FNV-1a (64 bits) over the client and sequence number, big-endian,
// then the operation: written out, since each server digests every entry it
// commits and applies, and hash/fnv's interface costs more than the loop.
func (c Command) Digest() uint64 {
	var head [16]byte
	binary.BigEndian.PutUint64(head[:8], uint64(int64(c.Client)))
	binary.BigEndian.PutUint64(head[8:], c.Seq)
	return fnv1a(fnv1a(fnvOffset64, head[:]), c.Op)
}

// ResultDigest is the digest of a command's result for sim.Observation's
// Result: FNV-1a over the bytes, never 0 (0 means no result given).
func ResultDigest(result []byte) uint64 { return bytesDigest(result) }

// StateDigest is the digest of a replica's whole state, the bytes of
// Sessions.Snapshot, for sim.Observation's State: never 0 (0 means none
// given).
func StateDigest(snapshot []byte) uint64 { return bytesDigest(snapshot) }

// bytesDigest is FNV-1a over b, never 0.
func bytesDigest(b []byte) uint64 { return max(fnv1a(fnvOffset64, b), 1) }

// StateEvery is StateDigest of the state at every interval-th index, for
// a protocol that gives sim.Observation's State where every replica will:
// 0 at any other index, for an interval below 1, or for a state machine
// that cannot snapshot.
func (s *Sessions) StateEvery(index uint64, interval int) uint64 {
	if interval < 1 || index%uint64(interval) != 0 {
		return 0
	}
	data, err := s.Snapshot()
	if err != nil {
		return 0
	}
	return StateDigest(data)
}

// FNV-1a's 64-bit parameters.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnv1a continues the FNV-1a hash h over b.
func fnv1a(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime64
	}
	return h
}

// AppendTrace appends "client=5 seq=3 op=\"put k1 v3\"" (or "noop").
func (c Command) AppendTrace(b []byte) []byte {
	if c.IsNoop() {
		return append(b, "noop"...)
	}
	b = append(b, "client="...)
	b = strconv.AppendInt(b, int64(c.Client), 10)
	return sim.TraceLine(b).Uint("seq", c.Seq).Quote("op", string(c.Op))
}

// AppendDigest appends c's binary form, for a message that carries it
// (see sim.Digester).
func (c Command) AppendDigest(b []byte) []byte {
	return sim.DigestForm(b).Node(c.Client).Uint(c.Seq).Bytes(c.Op)
}

// AppendBinary appends c's durable encoding to b.
func (c Command) AppendBinary(b []byte) []byte {
	b = binary.AppendVarint(b, int64(c.Client))
	b = binary.AppendUvarint(b, c.Seq)
	b = binary.AppendUvarint(b, uint64(len(c.Op)))
	return append(b, c.Op...)
}

// ErrCorrupt reports an encoding that cannot be decoded.
var ErrCorrupt = errors.New("service: corrupt command encoding")

// ReadCommand decodes a command written by AppendBinary and returns the rest.
func ReadCommand(b []byte) (Command, []byte, error) {
	client, n := binary.Varint(b)
	if n <= 0 {
		return Command{}, nil, ErrCorrupt
	}
	b = b[n:]
	seq, n := binary.Uvarint(b)
	if n <= 0 {
		return Command{}, nil, ErrCorrupt
	}
	b = b[n:]
	size, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < size {
		return Command{}, nil, ErrCorrupt
	}
	b = b[n:]
	op := append([]byte(nil), b[:size]...)
	return Command{Client: sim.NodeID(client), Seq: seq, Op: op}, b[size:], nil
}

// Request is a client's message asking the service to run a command. The
// client signs the command's digest (sim.Env.Sign) before it sends the
// first request for it, so that a Byzantine-fault-tolerant protocol can
// refuse a command a faulty replica made up in a client's name: in the
// kernel's model a signature is its signer and digest, so a replica checks
// one from the command alone (ClientSigned), as if it travelled with it.
type Request struct {
	Cmd Command
}

// ClientSigned reports whether cmd's client signed it: a request its client
// sent, not one a replica made up in the client's name.
func ClientSigned(env sim.Env, cmd Command) bool {
	return env.Verify(sim.Signature{Signer: cmd.Client, Digest: cmd.Digest()})
}

// AppendTrace implements sim.Message.
func (r Request) AppendTrace(b []byte) []byte {
	b = append(b, "Request "...)
	return r.Cmd.AppendTrace(b)
}

// AppendDigest implements sim.Digester: a run sends a request per operation.
func (r Request) AppendDigest(b []byte) []byte {
	return r.Cmd.AppendDigest(sim.DigestForm(b).Kind("Request"))
}

// Status says how a server answered a request.
type Status uint8

const (
	// StatusOK: the command was applied (or had been, for a retry); Result holds its output.
	StatusOK Status = iota + 1
	// StatusNotLeader: this server cannot order commands now; try Leader if known.
	StatusNotLeader
)

// Reply is a server's answer to a Request.
type Reply struct {
	Client sim.NodeID
	Seq    uint64
	Status Status
	Leader sim.NodeID // with StatusNotLeader: who the server believes leads, or sim.None
	Result []byte
}

// AppendTrace implements sim.Message.
func (r Reply) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("Reply").Int("client", int64(r.Client)).Uint("seq", r.Seq)
	if r.Status == StatusNotLeader {
		return sim.TraceLine(b).Word("not-leader").Int("hint", int64(r.Leader))
	}
	return sim.TraceLine(b).Word("ok").Quote("result", string(r.Result))
}

// AppendDigest implements sim.Digester: a run sends a reply per request.
func (r Reply) AppendDigest(b []byte) []byte {
	return sim.DigestForm(b).Kind("Reply").Node(r.Client).Uint(r.Seq).Uint(uint64(r.Status)).Node(r.Leader).
		Bytes(r.Result)
}

// StateMachine is the deterministic application a protocol replicates.
// Apply must depend only on the sequence of operations applied, never on time,
// randomness or map iteration order.
type StateMachine interface {
	// Apply runs op and returns its result. It owns neither slice after return.
	Apply(op []byte) []byte
}

// ReadOnly is implemented by a state machine that can tell a command that
// changes nothing (a read) from one that may. The command stays opaque to
// protocols: they ask, through Sessions.ReadOnly and Sessions.Read, to serve reads outside the
// log (a lease read, or a planted stale-read bug).
type ReadOnly interface {
	ReadOnly(op []byte) bool
}

// NewStateMachine builds an empty state machine: each node instance (and each
// restart) gets its own and rebuilds it by applying the committed log.
type NewStateMachine func() StateMachine

// Sessions wraps a StateMachine with client sessions: a command whose sequence
// number was already applied for its client returns the cached result instead
// of running twice, and an older one is ignored (its client has moved on).
// Each client has at most one outstanding operation, so the last result per
// client is all the memory needed.
type Sessions struct {
	sm   StateMachine
	last map[sim.NodeID]session
}

type session struct {
	seq    uint64
	result []byte
}

// NewSessions wraps sm.
func NewSessions(sm StateMachine) *Sessions {
	return &Sessions{sm: sm, last: map[sim.NodeID]session{}}
}

// Forget drops every client's session and keeps the state: a retried
// command then runs again. It is what a server does that restores its state
// but not its sessions, which the planted bugs of that kind use.
func (s *Sessions) Forget() { clear(s.last) }

// Outcome of applying a command through Sessions.
type Outcome uint8

const (
	Applied   Outcome = iota + 1 // the command ran now
	Duplicate                    // it had run before; the cached result is returned
	Stale                        // the client has moved past it; nothing ran, no result
	NoopRun                      // a no-op: nothing to run
)

// Apply runs c at most once per (client, seq) and returns its result.
func (s *Sessions) Apply(c Command) ([]byte, Outcome) {
	if c.IsNoop() {
		return nil, NoopRun
	}
	last, ok := s.last[c.Client]
	switch {
	case ok && c.Seq == last.seq:
		return last.result, Duplicate
	case ok && c.Seq < last.seq:
		return nil, Stale
	}
	result := s.sm.Apply(c.Op)
	s.last[c.Client] = session{seq: c.Seq, result: result}
	return result, Applied
}

// ReadOnly reports whether op changes nothing, as the wrapped state machine
// says (service.ReadOnly); false if it cannot tell.
func (s *Sessions) ReadOnly(op []byte) bool {
	r, ok := s.sm.(ReadOnly)
	return ok && r.ReadOnly(op)
}

// Read runs op on the state as it stands, outside the log and every
// client's session, if op is read-only (ReadOnly): how a protocol serves a
// read it has made safe some other way (a lease, a read index, the tail of
// a chain), or a planted stale read. It reports false, running nothing, for
// an op that may change the state, which must go through the log.
func (s *Sessions) Read(op []byte) ([]byte, bool) {
	if !s.ReadOnly(op) {
		return nil, false
	}
	return s.sm.Apply(op), true
}

// TxnSplitter is an optional interface of a StateMachine whose commands
// may be transactions of several steps. SplitTxn cuts one into commands
// that, run one after another with nothing in between, do what it does (nil
// if op is no transaction of two steps or more); JoinResults puts their
// results together as the whole command's result. Only a planted bug uses
// it: a transaction applied partly, other commands in between.
type TxnSplitter interface {
	SplitTxn(op []byte) [][]byte
	JoinResults(results [][]byte) []byte
}

// SplitTxn cuts op as the wrapped state machine says (TxnSplitter); nil if
// it cannot.
func (s *Sessions) SplitTxn(op []byte) [][]byte {
	if t, ok := s.sm.(TxnSplitter); ok {
		return t.SplitTxn(op)
	}
	return nil
}

// JoinResults joins the results of the parts SplitTxn cut.
func (s *Sessions) JoinResults(results [][]byte) []byte {
	return s.sm.(TxnSplitter).JoinResults(results)
}

// LastApplied returns the latest sequence number applied for client, or 0.
func (s *Sessions) LastApplied(client sim.NodeID) uint64 { return s.last[client].seq }
