package checkers

import (
	"fmt"

	"github.com/simrun/simrun/sim"
)

// oneLeaderPerTerm checks Raft's Election Safety property: at most one
// leader can be elected in a given term (Raft §5.2, Figure 3). The same holds
// of a Paxos ballot (owned by one proposer) and a PBFT view (whose primary is
// fixed by the view number, §4.1).
type oneLeaderPerTerm struct {
	leaders map[uint64]leaderRecord // term -> the first leader seen in it
}

type leaderRecord struct {
	node  sim.NodeID
	event uint64
}

// NewOneLeaderPerTerm returns the "one-leader-per-term" invariant.
func NewOneLeaderPerTerm() Invariant {
	return &oneLeaderPerTerm{leaders: map[uint64]leaderRecord{}}
}

func (l *oneLeaderPerTerm) Name() string { return NameOneLeaderPerTerm }

// Kinds implements Selective: only elections are judged.
func (l *oneLeaderPerTerm) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsLeader} }

// Observe compares a leader announcement with the first one of its term. The
// same node announcing again (a restart that recovers its leadership state,
// a protocol that re-announces) is fine.
func (l *oneLeaderPerTerm) Observe(at sim.Time, event uint64, o sim.Observation) *Violation {
	if o.Kind != sim.ObsLeader {
		return nil
	}
	prev, seen := l.leaders[o.Term]
	if !seen {
		l.leaders[o.Term] = leaderRecord{node: o.Node, event: event}
		return nil
	}
	if prev.node == o.Node {
		return nil
	}
	return &Violation{Checker: NameOneLeaderPerTerm, Event: event, At: at, Node: o.Node,
		Message: fmt.Sprintf("term %d has two leaders: %v (event %d) and %v (event %d)", o.Term, o.Node, event, prev.node, prev.event)}
}
