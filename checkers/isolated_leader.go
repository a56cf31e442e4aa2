package checkers

import (
	"fmt"
	"time"

	"github.com/simrun/simrun/checkers/names"
	"github.com/simrun/simrun/sim"
)

// NameIsolatedLeader is the check that a leader cut off from a majority
// steps down, as scenario files list it.
const NameIsolatedLeader = names.IsolatedLeader

// IsolatedLeaderCheck is the "isolated-leader" invariant: a leader that
// cannot reach a majority of the servers stops leading within Bound, on its
// own clock. Raft's check-quorum promises this (thesis §6.2): a leader that
// has not heard from a majority within an election timeout steps down, so
// that its clients go elsewhere instead of waiting on commits it cannot
// make. A protocol that makes no such promise keeps leading, rightly, and
// cannot list the check.
//
// It reads sim.ObsLead (a server sent a message only a leader sends, made
// by the runner from sim.Termed messages, its incarnation in Index) and asks
// the runner, through the function Watch installs, where the server stands
// (LeaderReach). Reachability is the fault schedule's, not the protocol's: a
// server counts as unreachable only when it is down or paused, or a link
// between them is cut or clogged either way, so a lossy link never makes a
// leader "isolated"; and a server reached within the protocol's quorum
// window still counts (followers that crash in turn, each back before the
// next goes, leave a leader that reaches no majority at any instant but
// hears from one within every election timeout, as check-quorum asks).
// Time is the leader's clock, as its timers read it: a clock stepped back
// holds its timers until it is past where it was, so the check's clock does
// not go back either; a pause or a slow sync holds them too, so the time it
// spent held is left out.
type IsolatedLeaderCheck struct {
	Bound time.Duration
	// Window is the protocol's quorum window (runner.Servers.QuorumWindow):
	// a leader cut off from a majority for longer (LeaderReach.CutOff) last
	// reached one that long before, or when it was last seen reaching one
	// at an instant if that is later, and the count starts there.
	Window time.Duration
	reach  func(sim.NodeID) LeaderReach
	leads  []isolatedLead // by node ID
	judged bool           // a leader was seen cut off
}

// LeaderReach is where a server stands when it acts as leader.
type LeaderReach struct {
	Alone   bool          // it cannot reach a majority of the servers now
	CutOff  bool          // nor could it within the protocol's quorum window (Alone if none)
	Clock   sim.Time      // its clock's reading
	Stalled time.Duration // how long, on its clock, it was held by pauses and slow syncs (sim.World.Stalled)
}

// isolatedLead is a server's leadership of one term in one incarnation: the
// furthest its clock has read, whether and since when (that reading, how
// long it had been held by then) it has been alone, and whether and since
// when (the reading the count starts from, the event that saw it, how long
// it had been held then) it has led cut off from a majority.
type isolatedLead struct {
	seen         bool
	term, inc    uint64
	clock        sim.Time
	alone        bool
	aloneSince   sim.Time
	aloneStalled time.Duration
	cutOff       bool
	since        sim.Time
	sinceAt      uint64 // the event
	stalledSince time.Duration
}

// NewIsolatedLeaderCheck returns the "isolated-leader" invariant; the
// runner gives it its bound and its view of the servers with Watch.
func NewIsolatedLeaderCheck() *IsolatedLeaderCheck { return &IsolatedLeaderCheck{} }

// Watch sets the bound, the protocol's quorum window and the function that
// says where a server stands.
func (c *IsolatedLeaderCheck) Watch(bound, window time.Duration, reach func(sim.NodeID) LeaderReach) {
	c.Bound, c.Window, c.reach = bound, window, reach
}

// Judged reports whether a leader was ever seen cut off from a majority:
// if not, the check judged nothing.
func (c *IsolatedLeaderCheck) Judged() bool { return c.judged }

// Name implements Invariant.
func (c *IsolatedLeaderCheck) Name() string { return NameIsolatedLeader }

// Kinds implements Selective: the leaders' acts.
func (c *IsolatedLeaderCheck) Kinds() []sim.ObsKind { return []sim.ObsKind{sim.ObsLead} }

// Observe judges a leader's message: sent while cut off from a majority for
// longer than Bound on the sender's clock, it is a violation.
func (c *IsolatedLeaderCheck) Observe(at sim.Time, event uint64, o sim.Observation) *Violation {
	if o.Kind != sim.ObsLead || o.Node < 0 || c.reach == nil {
		return nil
	}
	r := c.reach(o.Node)
	lead := nodeSlot(&c.leads, o.Node)
	if !lead.seen || lead.term != o.Term || lead.inc != o.Index {
		*lead = isolatedLead{seen: true, term: o.Term, inc: o.Index, clock: r.Clock} // a new leadership
	}
	lead.clock = max(lead.clock, r.Clock)
	alone := r.Alone || r.CutOff // cut off for the window is alone now
	c.judged = c.judged || alone
	switch {
	case !alone:
		lead.alone, lead.cutOff = false, false
		return nil
	case !lead.alone:
		lead.alone, lead.aloneSince, lead.aloneStalled = true, lead.clock, r.Stalled
	}
	switch {
	case !r.CutOff:
		lead.cutOff = false
	case !lead.cutOff:
		lead.cutOff, lead.sinceAt = true, event
		lead.since, lead.stalledSince = lead.clock.Add(-c.Window), r.Stalled
		if lead.since <= lead.aloneSince {
			lead.since, lead.stalledSince = lead.aloneSince, lead.aloneStalled
		}
	default:
		if led := lead.clock.Sub(lead.since) - (r.Stalled - lead.stalledSince); led > c.Bound {
			return &Violation{Checker: NameIsolatedLeader, Event: event, At: at, Node: o.Node,
				Message: fmt.Sprintf("%v still leads term %d, cut off from a majority for %v on its clock (pauses and slow syncs left out, since event %d), past the %v in which it should step down",
					o.Node, o.Term, led, lead.sinceAt, c.Bound)}
		}
	}
	return nil
}
