package checkers

import (
	"slices"
	"strconv"

	"github.com/simrun/simrun/sim"
)

// Invariant judges a run one observation at a time, as the observations are
// made, so that a violation is reported at the event that caused it.
//
// Contract: Observe is called for every observation of the run (of the kinds
// it names, for a Selective invariant), in order, from the world's
// goroutine. It must be deterministic: its answer may depend only on the
// observations seen so far (no maps iterated, no clocks). It returns nil, or
// the violation this observation reveals. An invariant keeps no reference to
// the world.
type Invariant interface {
	// Name is the check's name as scenarios list it ("agreement").
	Name() string
	// Observe judges observation o, made at virtual time at as the event-th
	// event of the run (1-based, the number of its trace line).
	Observe(at sim.Time, event uint64, o sim.Observation) *Violation
}

// Selective is an Invariant that judges only some kinds of observation: the
// Monitor shows it those alone. Most of a run's observations are commits and
// applies, which most invariants ignore; without this each would still be
// called, with the whole observation, for every one of them.
type Selective interface {
	Invariant
	// Kinds lists the kinds Observe judges; it is asked once. nil means
	// every kind.
	Kinds() []sim.ObsKind
}

// MessageJudge is an Invariant that also judges the messages the correct
// nodes send, through the world's message hook (sim.World.OnMessage, which
// neither traces nor changes anything): the votes they cast (sim.Voter).
type MessageJudge interface {
	Invariant
	// Sent judges msg, sent by from to to at virtual time at, during the
	// event-th event of the run.
	Sent(at sim.Time, event uint64, from, to sim.NodeID, msg sim.Message) *Violation
}

// nodeSlot returns node id's element of *byNode, a slice by node ID that
// per-node state of a run lives in (looked up at every message or apply,
// where a map costs a hash), growing it to hold id. IDs are the kernel's,
// dense from 0.
func nodeSlot[T any](byNode *[]T, id sim.NodeID) *T {
	if int(id) >= len(*byNode) {
		*byNode = append(*byNode, make([]T, int(id)+1-len(*byNode))...)
	}
	return &(*byNode)[id]
}

// Violation is a broken invariant, pinned to the event that broke it.
type Violation struct {
	Checker string     // the invariant's name
	Event   uint64     // the trace line of the observation that revealed it
	At      sim.Time   // its virtual time
	Node    sim.NodeID // the node that made the observation
	Message string     // what is wrong, naming both sides of a conflict
}

// Error returns "agreement violated at event 812 (t=1.5s, n2): ...".
func (v *Violation) Error() string {
	b := make([]byte, 0, 96+len(v.Message))
	b = append(b, v.Checker...)
	b = append(b, " violated at event "...)
	b = strconv.AppendUint(b, v.Event, 10)
	b = append(b, " (t="...)
	b = append(b, v.At.String()...)
	b = append(b, ", "...)
	b = append(b, v.Node.String()...)
	b = append(b, "): "...)
	return string(append(b, v.Message...))
}

// InvariantResult is an invariant's verdict at the end of a run.
type InvariantResult struct {
	Name      string
	Verdict   Verdict    // Pass if no violation was observed, else Fail
	Detail    string     // the violation, or "" for a pass
	Violation *Violation // nil for a pass
}

// Monitor runs invariants over a world's observations. It records the first
// violation of each invariant (later observations are not shown to an
// invariant that has already failed) and stops the world at the first
// violation of any.
type Monitor struct {
	invs  []Invariant
	first []*Violation // by invariant position
	stop  func(reason string)
	// byKind[k] lists, in order, the positions of the invariants shown
	// observations of kind k; all those of the invariants that are not
	// Selective, shown a kind no Selective one named.
	byKind [][]int
	all    []int
	judges []int // the positions of the MessageJudges
	// excused, if set, names the senders whose messages the judges do not
	// see for now (ExcuseSenders).
	excused func(sim.NodeID) bool
}

// Attach registers invs with w: each sees every observation (of its kinds,
// if Selective) with w.Now() and w.Events(), and the first violation stops
// the run (w.Stop). Call it before the run starts.
func Attach(w *sim.World, invs []Invariant) *Monitor {
	return AttachCorrect(w, invs, nil)
}

// AttachCorrect is Attach for a run with Byzantine servers: their
// observations are not shown to the invariants, which judge the correct
// servers only (a liar's claims about itself prove nothing).
func AttachCorrect(w *sim.World, invs []Invariant, byzantine []sim.NodeID) *Monitor {
	m := NewMonitor(invs, w.Stop)
	w.OnObservation(func(o sim.Observation) {
		if !slices.Contains(byzantine, o.Node) {
			m.Observe(w.Now(), w.Events(), o)
		}
	})
	if len(m.judges) > 0 {
		w.OnMessage(func(ev sim.MessageEvent) {
			if ev.Sent && !slices.Contains(byzantine, ev.From) {
				m.Sent(w.Now(), w.Events(), ev.From, ev.To, ev.Msg)
			}
		})
	}
	return m
}

// NewMonitor builds a monitor that calls stop (if not nil) at the first
// violation. Attach is the usual way in; this one serves tests and replays.
func NewMonitor(invs []Invariant, stop func(reason string)) *Monitor {
	m := &Monitor{invs: append([]Invariant(nil), invs...), first: make([]*Violation, len(invs)), stop: stop}
	m.routeKinds()
	for i, inv := range m.invs {
		if _, ok := inv.(MessageJudge); ok {
			m.judges = append(m.judges, i)
		}
	}
	return m
}

// routeKinds fills byKind and all from the invariants' Kinds.
func (m *Monitor) routeKinds() {
	var kinds [][]sim.ObsKind // by position; nil: every kind
	for _, inv := range m.invs {
		var ks []sim.ObsKind
		if s, ok := inv.(Selective); ok {
			ks = s.Kinds()
			for _, k := range ks {
				if int(k) >= len(m.byKind) {
					m.byKind = append(m.byKind, make([][]int, int(k)+1-len(m.byKind))...)
				}
			}
		}
		kinds = append(kinds, ks)
	}
	for i, ks := range kinds {
		if ks == nil {
			m.all = append(m.all, i)
		}
		for k := range m.byKind {
			if ks == nil || slices.Contains(ks, sim.ObsKind(k)) {
				m.byKind[k] = append(m.byKind[k], i)
			}
		}
	}
}

// Observe shows o to every invariant that judges its kind and has not failed
// yet, in order.
func (m *Monitor) Observe(at sim.Time, event uint64, o sim.Observation) {
	shown := m.all
	if int(o.Kind) < len(m.byKind) {
		shown = m.byKind[o.Kind]
	}
	for _, i := range shown {
		if m.first[i] != nil {
			continue
		}
		if v := m.invs[i].Observe(at, event, o); v != nil {
			m.record(i, v)
		}
	}
}

// ExcuseSenders has the judges of messages skip, from now on, the messages of
// the senders excused names when they are sent: servers the protocol's
// fault model counts as faulty from some moment on (a Byzantine-fault-
// tolerant replica whose disk was corrupted forgets, by design, what it
// voted).
func (m *Monitor) ExcuseSenders(excused func(sim.NodeID) bool) { m.excused = excused }

// Sent shows a message a correct node sent to every MessageJudge that has
// not failed yet, in order, unless its sender is excused (ExcuseSenders).
func (m *Monitor) Sent(at sim.Time, event uint64, from, to sim.NodeID, msg sim.Message) {
	if m.excused != nil && m.excused(from) {
		return
	}
	for _, i := range m.judges {
		if m.first[i] != nil {
			continue
		}
		if v := m.invs[i].(MessageJudge).Sent(at, event, from, to, msg); v != nil {
			m.record(i, v)
		}
	}
}

// record keeps v, invariant i's first violation, and stops the run.
func (m *Monitor) record(i int, v *Violation) {
	m.first[i] = v
	if m.stop != nil {
		m.stop(v.Error())
	}
}

// Ticker is implemented by invariants that judge the passing of time, not
// only observations (the "progress" check): Tick asks them at a moment of
// the run, as the event-th event.
type Ticker interface {
	Tick(at sim.Time, event uint64) *Violation
}

// Tick asks every Ticker invariant that has not failed yet about time at.
func (m *Monitor) Tick(at sim.Time, event uint64) {
	for i, inv := range m.invs {
		t, ok := inv.(Ticker)
		if !ok || m.first[i] != nil {
			continue
		}
		if v := t.Tick(at, event); v != nil {
			m.record(i, v)
		}
	}
}

// Violations returns the first violation of each failed invariant, in the
// order the invariants were given.
func (m *Monitor) Violations() []*Violation {
	var out []*Violation
	for _, v := range m.first {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

// Results returns one verdict per invariant, in the order they were given.
func (m *Monitor) Results() []InvariantResult {
	out := make([]InvariantResult, len(m.invs))
	for i, inv := range m.invs {
		out[i] = InvariantResult{Name: inv.Name(), Verdict: Pass}
		if v := m.first[i]; v != nil {
			out[i].Verdict, out[i].Detail, out[i].Violation = Fail, v.Error(), v
		}
	}
	return out
}
