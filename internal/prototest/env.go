package prototest

import (
	"slices"
	"time"

	"github.com/simrun/simrun/sim"
)

// EffectKind names what a handler asked the kernel to do.
type EffectKind uint8

// The effects an Env records.
const (
	EffectSend EffectKind = iota + 1
	EffectSetTimer
	EffectCancelTimer
	EffectObserve
)

// Effect is one recorded call of Send, SetTimer, CancelTimer or Observe.
type Effect struct {
	Kind  EffectKind
	To    sim.NodeID      // EffectSend
	Msg   sim.Message     // EffectSend
	Timer sim.TimerKind   // EffectSetTimer, EffectCancelTimer
	After time.Duration   // EffectSetTimer
	Obs   sim.Observation // EffectObserve, with Node filled in
}

// Env is a scripted sim.Env: it records every effect in order (Effects), keeps
// the pending timers (Timers), and hands out a real sim.Disk. Signatures are
// modelled as the kernel models them: only a node itself signs, and a
// signature verifies only if some node made it. A Net routes the sends; an Env
// of its own (NewEnv) only records them.
type Env struct {
	id sim.NodeID
	// incarnation is bumped by each crash and start, as the kernel's is:
	// observations carry it.
	incarnation uint32
	servers     []sim.NodeID
	now         func() sim.Time
	rng         *sim.Rand
	disk        *sim.Disk
	signed      map[sim.Signature]bool
	route       func(e Effect) // nil for a standalone Env

	// Effects lists every Send, SetTimer, CancelTimer and Observe, in the
	// order the handlers made them.
	Effects []Effect
	// Timers holds the pending timers and the delay each was set with.
	Timers map[sim.TimerKind]time.Duration
}

// NewEnv returns a standalone Env for node id among servers, at time zero,
// with an empty disk: for calling one handler and inspecting its effects.
func NewEnv(id sim.NodeID, servers []sim.NodeID) *Env {
	return &Env{id: id, servers: servers, now: func() sim.Time { return 0 }, rng: sim.NewRand(uint64(id) + 1),
		disk: sim.NewDisk(), signed: map[sim.Signature]bool{}, Timers: map[sim.TimerKind]time.Duration{}}
}

func (e *Env) record(f Effect) {
	e.Effects = append(e.Effects, f)
	if e.route != nil {
		e.route(f)
	}
}

// ID implements sim.Env.
func (e *Env) ID() sim.NodeID { return e.id }

// Servers implements sim.Env.
func (e *Env) Servers() []sim.NodeID { return e.servers }

// Now implements sim.Env.
func (e *Env) Now() sim.Time { return e.now() }

// Rand implements sim.Env.
func (e *Env) Rand() *sim.Rand { return e.rng }

// Disk implements sim.Env.
func (e *Env) Disk() *sim.Disk { return e.disk }

// Send implements sim.Env.
func (e *Env) Send(to sim.NodeID, m sim.Message) { e.record(Effect{Kind: EffectSend, To: to, Msg: m}) }

// SetTimer implements sim.Env.
func (e *Env) SetTimer(k sim.TimerKind, d time.Duration) {
	e.Timers[k] = d
	e.record(Effect{Kind: EffectSetTimer, Timer: k, After: d})
}

// CancelTimer implements sim.Env.
func (e *Env) CancelTimer(k sim.TimerKind) {
	delete(e.Timers, k)
	e.record(Effect{Kind: EffectCancelTimer, Timer: k})
}

// Observe implements sim.Env.
func (e *Env) Observe(o sim.Observation) {
	o.Node, o.Incarnation = e.id, e.incarnation
	o.Bytes = slices.Clone(o.Bytes) // the caller may reuse its buffer, as the kernel allows
	e.record(Effect{Kind: EffectObserve, Obs: o})
}

// Buggify implements sim.Env: scripted tests take no code-level faults.
func (e *Env) Buggify(string) bool { return false }

// Sign implements sim.Env.
func (e *Env) Sign(d uint64) sim.Signature {
	s := sim.Signature{Signer: e.id, Digest: d}
	e.signed[s] = true
	return s
}

// Verify implements sim.Env.
func (e *Env) Verify(s sim.Signature) bool { return e.signed[s] }

// AppendObservation appends the kernel's canonical form of o ("leader
// term=3", "commit term=3 index=7 digest=ab12"); sim keeps its own
// formatter unexported, so the kit builds the same line with sim.TraceLine.
func AppendObservation(b []byte, o sim.Observation) []byte {
	l := sim.TraceLine(b).Kind(o.Kind.String())
	switch o.Kind {
	case sim.ObsLeader:
		l = l.Uint("term", o.Term)
	case sim.ObsCommit, sim.ObsApply:
		l = l.Uint("term", o.Term).Uint("index", o.Index).Hex("digest", o.Digest)
	}
	if o.Text != "" {
		l = l.Word(o.Text)
	}
	if len(o.Bytes) > 0 {
		l = l.Word(string(o.Bytes))
	}
	return l
}
