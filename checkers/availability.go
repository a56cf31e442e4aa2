package checkers

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/sim"
)

// Availability checks: properties the safety checkers cannot see, because a
// protocol that breaks them still never disagrees. Both are protocol-neutral.

// Names of the availability checks, as scenario files list them.
const (
	NameStaleLeader = names.StaleLeader
	NameProgress    = names.Progress
)

// staleLeader checks that a server that saw a higher term does not go on
// acting as the leader of an older one: Raft §5.1 ("if a candidate or
// leader discovers that its term is out of date, it immediately reverts to
// follower state"), Paxos Made Simple §2.2 (a proposer that learns of a
// higher-numbered proposal abandons its own), the same of a view. It reads
// sim.ObsTerm (a server saw a term) and sim.ObsLead (a server sent a message
// only a leader of a term sends), which the runner makes from the
// protocol's sim.Termed messages; each is numbered with the server's
// incarnation in Index, and a restarted server starts afresh.
type staleLeader struct {
	seen []seenTerm // by node ID: a slice, as every message of a run is looked up
}

// seenTerm is the highest term a server's current incarnation saw.
type seenTerm struct {
	term, inc uint64
	event     uint64
	at        sim.Time
}

// NewStaleLeader returns the "stale-leader" invariant.
func NewStaleLeader() Invariant { return &staleLeader{} }

func (s *staleLeader) Name() string { return NameStaleLeader }

// Kinds implements Selective: the terms servers see and their leaders' acts.
func (s *staleLeader) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsTerm, sim.ObsLead} }

// Observe records the terms servers see and judges their leaders' messages.
func (s *staleLeader) Observe(at sim.Time, event uint64, o sim.Observation) *Violation {
	if o.Kind != sim.ObsTerm && o.Kind != sim.ObsLead {
		return nil
	}
	if o.Node < 0 {
		return nil // the kernel names the observing node: never None
	}
	prev := nodeSlot(&s.seen, o.Node)
	if prev.inc != o.Index {
		*prev = seenTerm{inc: o.Index} // a node not seen yet, or restarted
	}
	if o.Kind == sim.ObsTerm {
		if o.Term > prev.term {
			prev.term, prev.event, prev.at = o.Term, event, at
		}
		return nil
	}
	if o.Term >= prev.term {
		return nil
	}
	return &Violation{Checker: NameStaleLeader, Event: event, At: at, Node: o.Node,
		Message: fmt.Sprintf("%v acted as leader of term %d after it saw term %d (event %d, t=%v)",
			o.Node, o.Term, prev.term, prev.event, prev.at)}
}

// DefaultProgressBound is how long a healthy majority may go without a
// client operation completing, for the "progress" check: several election
// timeouts and client retries of the shipped protocols' defaults.
const DefaultProgressBound = 3 * time.Second

// ProgressCheck is the "progress" invariant: while the workload runs, once a
// majority of the servers has been up, running and connected both ways to
// each other for Bound, some client operation must have succeeded within
// the last Bound. The runner tells it when the servers are healthy
// (Healthy): the same majority all along, none of it restarted, its links
// at the run's network settings; and Ticks it; it reads the clients'
// sim.ObsReturn.
type ProgressCheck struct {
	Bound   time.Duration
	since   sim.Time // when the majority became healthy; sim.Forever while it is not
	lastOK  sim.Time // the last successful operation
	members []sim.NodeID
	stopped bool
}

// NewProgressCheck returns the "progress" invariant with the given bound
// (DefaultProgressBound if 0).
func NewProgressCheck(bound time.Duration) *ProgressCheck {
	if bound <= 0 {
		bound = DefaultProgressBound
	}
	return &ProgressCheck{Bound: bound, since: sim.Forever}
}

// CoverWait raises the bound above wait, the longest a correct protocol may
// stay silent on purpose before it elects (its failure detector backed off
// after elections that failed, runner.Servers.Backoff), by a second for the
// election and a client's retry: a healthy majority that waits out its
// backoff is not stalled.
func (p *ProgressCheck) CoverWait(wait time.Duration) { p.Bound = max(p.Bound, wait+time.Second) }

// Name implements Invariant.
func (p *ProgressCheck) Name() string { return NameProgress }

// Kinds implements Selective: only clients' returns are read.
func (p *ProgressCheck) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsReturn} }

// Observe notes a client's successful operation.
func (p *ProgressCheck) Observe(at sim.Time, _ uint64, o sim.Observation) *Violation {
	if o.Kind == sim.ObsReturn && (returnedOK(o.Text) || returnedOK(o.Bytes)) {
		p.lastOK = at
	}
	return nil
}

// returnedOK reads a client's return observation, "op=3 c0 seq=4 ok ...",
// given as its Text or its Bytes: the fourth word is the status.
func returnedOK[T string | []byte](text T) bool {
	spaces := 0
	for i := 0; i < len(text); i++ {
		if text[i] != ' ' {
			continue
		}
		if spaces++; spaces == 3 {
			rest := text[i+1:]
			return len(rest) >= 2 && rest[0] == 'o' && rest[1] == 'k' && (len(rest) == 2 || rest[2] == ' ')
		}
	}
	return false
}

// Healthy tells the check whether, at time at, the servers in majority (nil
// if none) are a majority that is up, running and connected.
func (p *ProgressCheck) Healthy(at sim.Time, majority []sim.NodeID) {
	switch {
	case majority == nil:
		p.since, p.members = sim.Forever, nil
	case p.since == sim.Forever:
		p.since, p.members = at, majority
	default:
		p.members = majority
	}
}

// Stop ends the check's watch: the workload stopped, nothing need complete.
func (p *ProgressCheck) Stop() { p.stopped = true }

// Tick implements Ticker: the violation, if a healthy majority waited more
// than Bound for an operation to succeed.
func (p *ProgressCheck) Tick(at sim.Time, event uint64) *Violation {
	if p.stopped || p.since == sim.Forever {
		return nil
	}
	from := max(p.since, p.lastOK)
	if at.Sub(from) <= p.Bound {
		return nil
	}
	return &Violation{Checker: NameProgress, Event: event, At: at, Node: p.members[0],
		Message: fmt.Sprintf("no client operation succeeded for %v (since t=%v) while a majority of the servers was up and connected (since t=%v, now %v)",
			at.Sub(from), from, p.since, sim.MembersOf(p.members...))}
}
