package paxos

import (
	"hash/fnv"
	"strconv"

	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Messages are named for Paxos Made Simple (PMS): prepare and promise are
// phase 1 (§2.2), accept and accepted phase 2 (§2.2), and learning a chosen
// value is §2.3. Slices in a message are never modified after sending: a
// receiver that keeps a command keeps a value nobody writes to.

// MsgPrepare is phase 1a (PMS §2.2): the sender, owner of Ballot, asks every
// acceptor to promise to accept no proposal numbered below Ballot, for every
// slot from From on (PMS §3: one prepare covers all slots of a new leader),
// and to report what it has accepted there. Rejoin marks the prepare of a
// server that lost its acceptor state (see rejoin.go): it is promised only
// if Ballot is above the acceptor's promise, never equal to it.
type MsgPrepare struct {
	Ballot uint64
	From   uint64
	Rejoin bool
}

// AppendTrace implements sim.Message.
func (m MsgPrepare) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgPrepare").Uint("ballot", m.Ballot).Uint("from", m.From)
	if m.Rejoin {
		b = append(b, " rejoin"...)
	}
	return b
}

// PromiseEntry is what an acceptor reports about one slot in a promise: the
// proposal it accepted there with the highest ballot (PMS §2.2, phase 1b), or,
// if it knows the slot's value is chosen, that value (then Ballot is the
// ballot of its last accepted proposal there, or 0).
type PromiseEntry struct {
	Slot    uint64
	Ballot  uint64
	Decided bool
	Cmd     service.Command
}

func (e PromiseEntry) appendTrace(b []byte) []byte {
	b = strconv.AppendUint(b, e.Slot, 10)
	b = append(b, ':')
	if e.Decided {
		b = append(b, "chosen:"...)
	} else {
		b = strconv.AppendUint(b, e.Ballot, 10)
		b = append(b, ':')
	}
	return appendCommand(b, e.Cmd)
}

// Snapshot is a server's state machine and client sessions after applying
// every slot up to Index (service.Sessions.Snapshot), with the digest of the
// command chosen at Index, so that installing it can be observed as applying
// Index, and the configurations that govern slots after Index (none: the
// initial one), so that configurations survive compaction. Data is never
// modified once taken. Index 0 is no snapshot.
type Snapshot struct {
	Index   uint64
	Digest  uint64
	Data    []byte
	Configs []ConfigChange
}

// appendTrace appends "index=40 digest=1f.. bytes=212 data=9f1c..": the
// bytes are not readable, but their hash keeps the trace hash faithful.
func (s Snapshot) appendTrace(b []byte) []byte {
	h := fnv.New64a()
	h.Write(s.Data)
	b = append(b, "index="...)
	b = strconv.AppendUint(b, s.Index, 10)
	b = sim.TraceLine(b).Hex("digest", s.Digest).Int("bytes", int64(len(s.Data))).
		Hex("data", h.Sum64())
	for _, c := range s.Configs {
		b = sim.TraceLine(b).Members("config@"+strconv.FormatUint(c.Slot, 10), c.Members)
	}
	return b
}

// MsgPromise is phase 1b (PMS §2.2): the acceptor promises Ballot and reports
// its accepted proposals from the prepare's From on. If its log was compacted
// past From, the slots it no longer holds are covered by its Snapshot, which
// the proposer installs (every slot of a snapshot is chosen). Lost lists the
// slots from From on whose record the acceptor lost to disk corruption: it
// cannot say what it accepted there (see rejoin.go).
type MsgPromise struct {
	Ballot   uint64
	Snapshot Snapshot // Index 0: none attached
	Entries  []PromiseEntry
	Lost     []uint64
}

// AppendTrace implements sim.Message.
func (m MsgPromise) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgPromise").Uint("ballot", m.Ballot)
	if m.Snapshot.Index > 0 {
		b = append(b, " snapshot "...)
		b = m.Snapshot.appendTrace(b)
	}
	b = append(b, " entries=["...)
	for i, e := range m.Entries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = e.appendTrace(b)
	}
	b = append(b, ']')
	if len(m.Lost) > 0 {
		b = append(b, " lost=["...)
		for i, s := range m.Lost {
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendUint(b, s, 10)
		}
		b = append(b, ']')
	}
	return b
}

// MsgNack tells a proposer that its Ballot was rejected because the acceptor
// promised the higher Promised: the optimization of PMS §2.2 ("an acceptor
// ... should probably inform the proposer, who should then abandon its
// attempt"), which also deposes a stale leader quickly.
type MsgNack struct {
	Ballot   uint64
	Promised uint64
}

// AppendTrace implements sim.Message.
func (m MsgNack) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgNack").Uint("ballot", m.Ballot).Uint("promised", m.Promised)
}

// MsgAccept is phase 2a (PMS §2.2) for a run of slots: the leader of Ballot
// proposes Cmds[i] for slot Slot+i.
type MsgAccept struct {
	Ballot uint64
	Slot   uint64
	Cmds   []service.Command
}

// AppendTrace implements sim.Message.
func (m MsgAccept) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgAccept").Uint("ballot", m.Ballot).Uint("slot", m.Slot)
	return appendCommands(b, m.Cmds)
}

// EachVote implements sim.Voter: the leader of a ballot proposes one value
// per slot in it (PMS §2.2, phase 2a).
func (m MsgAccept) EachVote(_ sim.NodeID, fn func(sim.Vote)) {
	for i, c := range m.Cmds {
		fn(sim.Vote{Kind: "accept", Term: m.Ballot, Index: m.Slot + uint64(i), Value: c.Digest()})
	}
}

// AppendDigest implements sim.Digester: accepts carry every command, and
// they are most of a run's messages with their answers.
func (m MsgAccept) AppendDigest(b []byte) []byte {
	return digestCommands(sim.DigestForm(b).Kind("MsgAccept").Uint(m.Ballot).Uint(m.Slot), m.Cmds)
}

// SlotRun names Count slots from Slot on, in Ballot: what an acceptor
// accepted (MsgAccepted) or a leader saw chosen (MsgDecide).
type SlotRun struct {
	Ballot uint64
	Slot   uint64
	Count  uint64
}

func (r SlotRun) appendTrace(b []byte, kind string) []byte {
	return sim.TraceLine(b).Kind(kind).Uint("ballot", r.Ballot).Uint("slot", r.Slot).Uint("count", r.Count)
}

func (r SlotRun) appendDigest(b []byte, kind string) []byte {
	return sim.DigestForm(b).Kind(kind).Uint(r.Ballot).Uint(r.Slot).Uint(r.Count)
}

// MsgAccepted is phase 2b (PMS §2.2): the acceptor accepted the leader's
// proposals of Ballot for the Count slots from Slot on. It goes to the leader,
// the one learner that counts them (PMS §2.3: "the acceptors could respond
// with their acceptances to some set of distinguished learners").
type MsgAccepted struct{ SlotRun }

// AppendTrace implements sim.Message.
func (m MsgAccepted) AppendTrace(b []byte) []byte { return m.appendTrace(b, "MsgAccepted") }

// AppendDigest implements sim.Digester, for the answer to every MsgAccept.
func (m MsgAccepted) AppendDigest(b []byte) []byte { return m.appendDigest(b, "MsgAccepted") }

// MsgDecide is the leader telling the other learners (PMS §2.3) that the
// Count slots from Slot on were chosen in Ballot, with the values it proposed
// in Ballot. A learner that accepted a proposal of Ballot in such a slot holds
// that very value (a leader proposes one value per slot per ballot) and learns
// it without the value being sent again; any other learner fetches it
// (MsgLearn).
type MsgDecide struct{ SlotRun }

// AppendTrace implements sim.Message.
func (m MsgDecide) AppendTrace(b []byte) []byte { return m.appendTrace(b, "MsgDecide") }

// AppendDigest implements sim.Digester: a leader decides every batch.
func (m MsgDecide) AppendDigest(b []byte) []byte { return m.appendDigest(b, "MsgDecide") }

// MsgHeartbeat tells the other servers that the leader of Ballot is alive
// (failure detection only) and that every slot up to Commit is chosen, so a
// server behind asks for what it misses.
type MsgHeartbeat struct {
	Ballot uint64
	Commit uint64
}

// AppendTrace implements sim.Message.
func (m MsgHeartbeat) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgHeartbeat").Uint("ballot", m.Ballot).Uint("commit", m.Commit)
}

// MsgLearn asks for the chosen values from slot From on: a lagging or
// restarted learner catching up (PMS §2.3: a learner can ask whether a value
// was chosen).
type MsgLearn struct {
	From uint64
}

// AppendTrace implements sim.Message.
func (m MsgLearn) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgLearn").Uint("from", m.From)
}

// MsgChosen answers a MsgLearn: Cmds[i] is the value chosen for slot Slot+i.
type MsgChosen struct {
	Slot uint64
	Cmds []service.Command
}

// AppendTrace implements sim.Message.
func (m MsgChosen) AppendTrace(b []byte) []byte {
	b = sim.TraceLine(b).Kind("MsgChosen").Uint("slot", m.Slot)
	return appendCommands(b, m.Cmds)
}

// AppendDigest implements sim.Digester: catching up sends many commands.
func (m MsgChosen) AppendDigest(b []byte) []byte {
	return digestCommands(sim.DigestForm(b).Kind("MsgChosen").Uint(m.Slot), m.Cmds)
}

// MsgSnapshot answers a MsgLearn for slots compacted away.
type MsgSnapshot struct {
	Snapshot Snapshot
}

// AppendTrace implements sim.Message.
func (m MsgSnapshot) AppendTrace(b []byte) []byte {
	b = append(b, "MsgSnapshot "...)
	return m.Snapshot.appendTrace(b)
}

func appendCommands(b []byte, cmds []service.Command) []byte {
	b = append(b, " cmds=["...)
	for i, c := range cmds {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendCommand(b, c)
	}
	return append(b, ']')
}

// digestCommands appends cmds to a message's binary form, count first.
func digestCommands(f sim.DigestForm, cmds []service.Command) []byte {
	f = f.Uint(uint64(len(cmds)))
	for _, c := range cmds {
		f = c.AppendDigest(f)
	}
	return f
}

// appendCommand appends a command as service.Command does, and a
// configuration command as "config=[n1 n2 n3]".
func appendCommand(b []byte, c service.Command) []byte {
	if m, ok := configOf(c); ok {
		return append(append(append(b, "config=["...), m.String()...), ']')
	}
	return c.AppendTrace(b)
}

// MsgHandOver is a leader asking a server to campaign at once, instead of
// waiting for its failure detector: a member of the new configuration when
// a change removed the leader, the target of a leadership transfer the
// operator asked for. Commit is the sender's commit index: the receiver
// campaigns once it knows every slot up to it chosen (a change included).
type MsgHandOver struct {
	Ballot uint64
	Commit uint64
}

// AppendTrace implements sim.Message.
func (m MsgHandOver) AppendTrace(b []byte) []byte {
	return sim.TraceLine(b).Kind("MsgHandOver").Uint("ballot", m.Ballot).Uint("commit", m.Commit)
}

// MessageTerm implements sim.Termed: the ballot a message is about, and
// whether only the leader of that ballot sends it (phase 2a accepts, its
// decisions and heartbeats). A nack is not Termed: its Ballot is the
// receiver's own, and what it reveals (Promised) matters only for the
// current attempt (PMS §2.2).
func (m MsgPrepare) MessageTerm() (uint64, bool) { return m.Ballot, false }

// MessageTerm implements sim.Termed.
func (m MsgPromise) MessageTerm() (uint64, bool) { return m.Ballot, false }

// MessageTerm implements sim.Termed.
func (m MsgAccept) MessageTerm() (uint64, bool) { return m.Ballot, true }

// MessageTerm implements sim.Termed.
func (m MsgAccepted) MessageTerm() (uint64, bool) { return m.Ballot, false }

// MessageTerm implements sim.Termed.
func (m MsgDecide) MessageTerm() (uint64, bool) { return m.Ballot, true }

// MessageTerm implements sim.Termed.
func (m MsgHeartbeat) MessageTerm() (uint64, bool) { return m.Ballot, true }
