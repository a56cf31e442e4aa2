package sim

import (
	"fmt"
	"strconv"
	"time"
)

// NodeID names a node of the world. Servers are numbered 0..n-1 in the order
// they were added, clients after them.
type NodeID int32

// None is the NodeID of nobody (no leader known, no vote cast).
const None NodeID = -1

// String returns "n3".
func (id NodeID) String() string { return "n" + strconv.Itoa(int(id)) }

// Message is a value sent between nodes. The kernel never mutates a message and
// a duplicated message delivers the same value twice, so senders and receivers
// must treat messages as immutable once sent (copy slices before changing them).
type Message interface {
	// AppendTrace appends the message's canonical one-line form to b, kind first
	// ("MsgApp term=3 index=7 ..."). Its digest feeds the trace hash (unless the
	// message is a Digester, whose binary form does), so it must depend only
	// on the message's contents: no pointers, no map iteration order.
	AppendTrace(b []byte) []byte
}

// TimerKind names one of a node's timers. A node has at most one pending timer
// per kind; setting a kind again replaces the pending one. Kinds are small
// numbers chosen by the node (0..MaxTimerKinds-1).
type TimerKind uint8

// MaxTimerKinds bounds the timer kinds one node may use.
const MaxTimerKinds = 64

// Node is a protocol or client state machine driven by the kernel.
//
// Contract: handlers run one at a time and to completion, never concurrently and
// never re-entrantly. A handler must not block, spawn goroutines, read the wall
// clock or use any randomness but env.Rand(). Sends, timer changes and
// observations take effect after the handler returns, in the order they were
// made; disk writes take effect at once (the disk is the node's own). If a
// handler panics, its effects are discarded and the run ends as a protocol
// crash. The env is valid only during the call: a node may keep it in a field
// for the helpers a handler calls, but must not use it after the handler
// returns.
type Node interface {
	// Start runs when the node boots: first at time zero, and after every
	// restart as a new instance that knows only what its disk holds.
	Start(env Env)
	// Receive handles a delivered message. from is the true sender: a node can
	// lie inside a payload but cannot forge another node's sends.
	Receive(env Env, from NodeID, m Message)
	// Timer handles a fired timer of the given kind.
	Timer(env Env, kind TimerKind)
}

// Factory builds a fresh instance of a node: at the start, and at each restart.
type Factory func(id NodeID) Node

// Env is a node's window on the world during one handler call.
type Env interface {
	// ID is this node's identity.
	ID() NodeID
	// Servers lists the server nodes of the world in ID order, this node
	// included if it is one. The slice is shared: do not modify it.
	Servers() []NodeID
	// Now is the node's view of the virtual clock.
	Now() Time
	// Rand is the node's own random stream. It persists across restarts.
	Rand() *Rand
	// Send queues m for delivery to the node to; the network decides latency,
	// loss and duplication.
	Send(to NodeID, m Message)
	// SetTimer arms the timer of the given kind to fire after d, replacing any
	// pending timer of that kind.
	SetTimer(kind TimerKind, d time.Duration)
	// CancelTimer disarms the timer of the given kind, if pending.
	CancelTimer(kind TimerKind)
	// Disk is the node's durable store, or nil for a node without one.
	Disk() *Disk
	// Observe announces a protocol-neutral fact for the checkers and the trace.
	Observe(o Observation)
	// Buggify reports whether the code-level fault point named site should
	// misbehave now (FoundationDB's BUGGIFY). With Config.Buggify zero it is
	// always false and draws nothing. Otherwise each site is enabled or not for
	// the whole run (with probability Config.Buggify, decided from the seed and
	// the site's name alone), and an enabled site fires on a quarter of its
	// calls, drawn from the node's own buggify stream. Use it to exercise rare
	// paths: a dropped batch, an early timeout, a slow follower.
	Buggify(site string) bool
	// Sign vouches for digest as this node: the kernel's model of a digital
	// signature, for Byzantine-fault-tolerant protocols.
	Sign(digest uint64) Signature
	// Verify reports whether sig.Signer really signed sig.Digest.
	Verify(sig Signature) bool
}

// Signature is the kernel's model of a digital signature: proof that Signer
// vouched for Digest (a digest of a message's contents). Only a node itself
// can sign (Env.Sign); anyone can check a signature it holds (Env.Verify). A
// Byzantine node may copy and forward signatures it received, but one it
// makes up for another signer fails verification, just as a forged signature
// would. The value is plain data, so it can travel inside messages.
type Signature struct {
	Signer NodeID
	Digest uint64
}

// ObsKind is the kind of an Observation.
type ObsKind uint8

const (
	// ObsLeader: Node became leader (primary, distinguished proposer) in Term
	// (term, ballot or view).
	ObsLeader ObsKind = iota + 1
	// ObsCommit: Node learned that the command with Digest is chosen at Index.
	ObsCommit
	// ObsApply: Node applied the command with Digest at Index to its state
	// machine, which produced a result with digest Result (0: not given)
	// and left a state with digest State (0: not given).
	ObsApply
	// ObsCall: a client invoked an operation (Text describes it).
	ObsCall
	// ObsReturn: a client's operation returned (Text describes the result).
	ObsReturn
	// ObsNote: free text for the trace, judged by no checker.
	ObsNote
	// ObsHalt: Node stopped for good because its storage is beyond repair
	// (Text says why): it is faulty from now on, like a crashed server that
	// never comes back, and liveness no longer waits for it.
	ObsHalt
	// ObsTerm: Node saw Term (a term, ballot or view) in a message it
	// received. The runner makes these from Termed messages for the
	// stale-leader check, without tracing them; a protocol whose messages
	// are not Termed may announce them itself. Index is the node's
	// incarnation (World.Incarnation), 0 if unknown: a restarted node knows
	// only its disk.
	ObsTerm
	// ObsLead: Node sent a message that only a leader of Term sends (an
	// AppendEntries, a phase 2a accept). Made and numbered like ObsTerm.
	ObsLead
	// ObsConfig: Node learned that the cluster configuration at Index (a log
	// index or slot) is committed: Digest, read as a Members set, holds its
	// voters, and Outgoing, in a joint configuration (Raft §6), the voters
	// of the configuration it leaves: a decision then needs a majority of
	// each. Text describes it ("n0 n1 n2", "n0 n1 n3 joint n0 n1 n2").
	// Term is the term, ballot or view that proposed it.
	ObsConfig
	// ObsImpaired: Node found on its disk that corruption took state it may
	// have acknowledged (Raft: log entries it may have helped commit, whose
	// lack it then holds against every candidate; Paxos: its promise or
	// accepted proposals, so that it neither promises nor accepts until it
	// rejoins), and it is no full member until it announces ObsRepaired
	// (Text says what). A leader may repair it, but without one it may be no
	// help electing one (what it lost may be held only by servers that are
	// down), and the progress check does not count it toward a majority
	// then. Only a fault that corrupted the disk excuses it (the durability
	// check).
	ObsImpaired
	// ObsRepaired: Node, impaired (ObsImpaired), holds again everything it
	// had lost.
	ObsRepaired
)

var obsNames = [...]string{ObsLeader: "leader", ObsCommit: "commit", ObsApply: "apply",
	ObsCall: "call", ObsReturn: "return", ObsNote: "note", ObsHalt: "halt", ObsTerm: "term", ObsLead: "lead", ObsConfig: "config",
	ObsImpaired: "impaired", ObsRepaired: "repaired"}

// String names the kind as it appears in traces.
func (k ObsKind) String() string {
	if int(k) < len(obsNames) && obsNames[k] != "" {
		return obsNames[k]
	}
	return "obs" + strconv.Itoa(int(k))
}

// Observation is a protocol-neutral statement a node makes about what it did.
// Checkers judge agreement and leadership from observations alone, which lets
// one checker serve every protocol.
type Observation struct {
	Kind ObsKind
	Node NodeID // filled in by the kernel: the observing node
	// Incarnation is filled in by the kernel too: the observing node's
	// incarnation (World.Incarnation), which a crash and a restart each
	// bump. Checkers tell by it what a node did before a restart from what
	// it did since (it applies its log again from the start). Not traced.
	Incarnation uint32
	Term        uint64 // term, ballot or view
	Index       uint64 // log index, slot or sequence number
	Digest      uint64 // digest of the command at Index
	Text        string // for calls, returns and notes
	// Bytes is a text built in a buffer the caller reuses, for the
	// observations made by the thousand (a client's call and return): Observe
	// copies it at once, so the buffer may be overwritten straight after and
	// making the observation allocates nothing. The trace and the hash treat
	// it as Text (set one of the two). An observer sees it only during its
	// call and copies what it keeps.
	Bytes []byte
	// Outgoing is, for an ObsConfig of a joint configuration, the voters of
	// the configuration it leaves (0 otherwise). The trace shows it in Text.
	Outgoing Members
	// Result is, for an ObsApply, a digest of what applying the command
	// produced (its reply), 0 if the protocol does not say. Replicas that
	// apply one command at one index from the same state produce the same
	// result, so two results at an index mean their states diverged (a
	// session forgotten, a command run twice), which the command digests
	// alone cannot show. Not traced: it adds a check, not an event.
	Result uint64
	// State is, for an ObsApply, a digest of the node's whole replicated
	// state (state machine and client sessions) once the command at Index
	// is applied, 0 if the protocol does not say: given at indexes every
	// replica reaches (a checkpoint, every snapshot interval) and where a
	// state is installed.
	// Correct replicas at one index hold one state, so two digests there
	// mean a divergence that neither the commands nor their results show (a
	// session table lost in a state transfer, forged state installed). Not
	// traced, like Result.
	State uint64
}

func (o *Observation) appendTrace(b []byte) []byte {
	b = append(b, o.Kind.String()...)
	switch o.Kind {
	case ObsLeader, ObsTerm, ObsLead:
		b = TraceLine(b).Uint("term", o.Term)
	case ObsCommit, ObsApply:
		b = TraceLine(b).Uint("term", o.Term).Uint("index", o.Index).Hex("digest", o.Digest)
	case ObsConfig:
		b = TraceLine(b).Uint("term", o.Term).Uint("index", o.Index)
	}
	if o.Text != "" {
		b = append(b, ' ')
		b = append(b, o.Text...)
	}
	if len(o.Bytes) > 0 {
		b = append(b, ' ')
		b = append(b, o.Bytes...)
	}
	return b
}

// instance builds the slot's node with its Factory. A Factory that returns
// nil gets a stand-in whose every handler panics saying so: the run crashes
// at the node's first event with that reason, not with a nil dereference
// in the kernel, and the handlers' path checks nothing.
func (s *nodeSlot) instance() Node {
	if n := s.factory(s.id); n != nil {
		return n
	}
	return nilNode{s.id}
}

// nilNode stands in for a node whose Factory returned nil.
type nilNode struct{ id NodeID }

func (n nilNode) fail() {
	panic(fmt.Sprintf("sim: %v has no instance: its Factory returned a nil Node", n.id))
}
func (n nilNode) Start(Env)                    { n.fail() }
func (n nilNode) Receive(Env, NodeID, Message) { n.fail() }
func (n nilNode) Timer(Env, TimerKind)         { n.fail() }
