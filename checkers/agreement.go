package checkers

import (
	"fmt"

	"github.com/simrun/simrun/internal/chunked"

	"github.com/simrun/simrun/sim"
)

// agreement checks that no two nodes commit or apply different commands at
// one index: Raft's State Machine Safety property (Raft §5.4.3, Figure 3),
// Paxos's "only a single value is chosen" per slot, PBFT's safety (§4.5).
// It compares digests, so one checker serves every protocol. It also checks
// that each node applies in index order within one incarnation: a replica's
// state is the commands applied so far, so applying an index again, or one
// below the last, means the state went back (an older snapshot installed
// over newer state) or ran a command twice. And it checks, from the
// messages the correct nodes send, that none casts two votes for one slot
// (votes.go).
type agreement struct {
	first indexRecords // index -> the first commit or apply seen there
	// results holds, per index, the first apply that gave its result's
	// digest (sim.Observation.Result): every later one must match it, or
	// the replicas' states have diverged.
	results indexRecords
	// states holds, per index, the first apply that gave the digest of
	// the replica's whole state there (sim.Observation.State): a
	// checkpoint or snapshot; every later one must match it.
	states indexRecords
	// applied holds, by node, its last apply: in which incarnation, at which
	// index. A restarted node applies its log again from the start.
	applied []lastApply
	// votes holds the votes the correct nodes cast (votes.go).
	votes votes
}

// lastApply is a node's last apply, if it made one.
type lastApply struct {
	seen        bool
	incarnation uint32
	index       uint64
	event       uint64
}

// indexRecord remembers who first fixed a digest at an index, for reports.
type indexRecord struct {
	digest uint64
	node   sim.NodeID
	kind   sim.ObsKind
	term   uint64
	event  uint64
}

// NewAgreement returns the "agreement" invariant.
func NewAgreement() Invariant {
	return &agreement{first: newIndexRecords(), results: newIndexRecords(), states: newIndexRecords()}
}

func (a *agreement) Name() string { return NameAgreement }

// Kinds implements Selective: commits and applies are judged.
func (a *agreement) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsCommit, sim.ObsApply} }

// Observe compares a commit or apply with the first one seen at its index,
// and an apply's result and state with the first given there. The same
// digest again is fine: another node catching up, or a restarted node
// committing and applying its log again.
func (a *agreement) Observe(at sim.Time, event uint64, o sim.Observation) *Violation {
	if o.Kind != sim.ObsCommit && o.Kind != sim.ObsApply {
		return nil
	}
	now := indexRecord{digest: o.Digest, node: o.Node, kind: o.Kind, term: o.Term, event: event}
	if prev, differs := a.first.firstOr(o.Index, now); differs {
		return &Violation{Checker: NameAgreement, Event: event, At: at, Node: o.Node,
			Message: fmt.Sprintf("index %d: %v, but %v", o.Index, now, prev)}
	}
	if o.Kind != sim.ObsApply {
		return nil
	}
	if v := a.inOrder(at, event, o); v != nil {
		return v
	}
	for _, c := range [...]struct {
		digest  uint64
		kind    sim.ObsKind
		records *indexRecords
		meaning string
	}{
		{o.Result, resultKind, &a.results, "the same command applied at the same index gave two results"},
		{o.State, stateKind, &a.states, "two replicas held different states after the same index"},
	} {
		if c.digest == 0 {
			continue
		}
		now.digest, now.kind = c.digest, c.kind
		if prev, differs := c.records.firstOr(o.Index, now); differs {
			return &Violation{Checker: NameAgreement, Event: event, At: at, Node: o.Node,
				Message: fmt.Sprintf("index %d: %v, but %v: %s, so the replicas' states had diverged",
					o.Index, now, prev, c.meaning)}
		}
	}
	return nil
}

// inOrder checks that apply o comes after the node's last apply, unless the
// node restarted since. Indexes may jump ahead: a snapshot installed from
// another server covers the ones between.
func (a *agreement) inOrder(at sim.Time, event uint64, o sim.Observation) *Violation {
	last := nodeSlot(&a.applied, o.Node)
	if last.seen && last.incarnation == o.Incarnation && o.Index <= last.index {
		return &Violation{Checker: NameAgreement, Event: event, At: at, Node: o.Node,
			Message: fmt.Sprintf("%v applied index %d (event %d) after index %d (event %d), without restarting: its state went back",
				o.Node, o.Index, event, last.index, last.event)}
	}
	*last = lastApply{seen: true, incarnation: o.Incarnation, index: o.Index, event: event}
	return nil
}

// resultKind and stateKind mark the records of an apply's result digest
// and state digest, for String: no observation has these kinds.
const (
	resultKind = sim.ObsKind(0)
	stateKind  = sim.ObsKind(255)
)

// String describes the record for a report: "n2 applied digest 3fa9 (term
// 4, event 812)".
func (r indexRecord) String() string {
	did := "applied"
	switch r.kind {
	case sim.ObsCommit:
		did = "committed"
	case resultKind:
		did = "applied with result"
	case stateKind:
		did = "reached state"
	}
	return fmt.Sprintf("%v %s digest %x (term %d, event %d)", r.node, did, r.digest, r.term, r.event)
}

// indexRecords holds one record per index. Logs, slots and sequence numbers
// are dense and mostly learned in order, so the records from index 1 up to
// the first gap sit in a list (a record, no hash table, per index: an hour
// of a busy cluster is hundreds of thousands of them, grown in chunks so
// that the list is never copied); an index learned ahead of a gap waits in
// a map until the gap before it fills.
type indexRecords struct {
	dense chunked.List[indexRecord] // element i is index i+1
	ahead map[uint64]indexRecord
}

func newIndexRecords() indexRecords { return indexRecords{ahead: map[uint64]indexRecord{}} }

// firstOr returns the first record at index and whether its digest differs
// from rec's; rec becomes the first where there is none.
func (r *indexRecords) firstOr(index uint64, rec indexRecord) (indexRecord, bool) {
	prev, seen := r.get(index)
	if !seen {
		r.put(index, rec)
		return rec, false
	}
	return prev, prev.digest != rec.digest
}

func (r *indexRecords) get(index uint64) (indexRecord, bool) {
	if index >= 1 && index <= uint64(r.dense.Len()) {
		return *r.dense.At(int(index - 1)), true
	}
	rec, ok := r.ahead[index]
	return rec, ok
}

// put records the first record at index, which has none yet.
func (r *indexRecords) put(index uint64, rec indexRecord) {
	if index != uint64(r.dense.Len())+1 {
		r.ahead[index] = rec
		return
	}
	r.dense.Append(rec)
	for {
		next, ok := r.ahead[uint64(r.dense.Len())+1]
		if !ok {
			return
		}
		delete(r.ahead, uint64(r.dense.Len())+1)
		r.dense.Append(next)
	}
}
