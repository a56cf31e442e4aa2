package sim

import (
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"time"
)

// Config sets up a world.
type Config struct {
	Seed uint64 // root seed; every random stream derives from it
	Link Link   // default faults of every link
	// MaxEvents bounds the events of the whole run (0 means DefaultMaxEvents).
	// Hitting it is a reported outcome, never a hang.
	MaxEvents uint64
	// Trace, if set, receives the full trace as JSON lines.
	Trace io.Writer
	// Buggify is the probability that a code-level fault point (Env.Buggify)
	// is enabled for this run; 0 switches every point off.
	Buggify float64
}

// DefaultMaxEvents is the event bound of a Config that sets none.
const DefaultMaxEvents = 200_000_000

// MaxPendingEvents bounds the events scheduled and not yet handled (timers,
// messages in flight, and those held for a paused node or a clogged link): a
// run past it is stopped, with a reason. The event
// bound caps a run's time but not its memory; timers of a few nanoseconds
// against milliseconds of latency schedule faster than the run handles
// them, and the queue grew until the process ran out of memory. A run of
// sixty clients over a long-tailed network keeps tens of thousands pending;
// this is half a gigabyte of events.
const MaxPendingEvents = 5_000_000

// maxPending is MaxPendingEvents, a variable so that tests can make it small.
var maxPending = MaxPendingEvents

// Validate reports an impossible configuration.
func (c Config) Validate() error {
	if err := c.Link.Validate(); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if !(c.Buggify >= 0 && c.Buggify <= 1) {
		return fmt.Errorf("buggify %v is not a probability in [0, 1]", c.Buggify)
	}
	return nil
}

// Outcome says why RunUntil returned.
type Outcome uint8

const (
	// Reached: the deadline came (or nothing was left to do before it).
	Reached Outcome = iota + 1
	// EventLimit: the run used up Config.MaxEvents.
	EventLimit
	// Stopped: someone called Stop (a checker found a violation, say).
	Stopped
	// Crashed: a node's handler panicked; see Result.Crash.
	Crashed
)

var outcomeNames = [...]string{Reached: "reached", EventLimit: "event-limit", Stopped: "stopped", Crashed: "crashed"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Crash describes a panic in a node's handler.
type Crash struct {
	Node   NodeID
	Event  uint64 // number of the event being handled (1-based)
	At     Time
	Value  string // the panic value, cut to MaxPanicValue bytes
	Stack  string
	Recent []string // the last trace lines before the crash
}

func (c *Crash) Error() string {
	return fmt.Sprintf("node %v panicked at event %d (t=%v): %s", c.Node, c.Event, c.At, c.Value)
}

// Result summarizes a run so far.
type Result struct {
	Outcome    Outcome
	StopReason string
	Events     uint64 // events processed (the number of trace lines)
	Now        Time
	Hash       uint64 // the running trace hash
	Crash      *Crash
	Messages   MessageStats
}

// MessageStats counts what the network did.
type MessageStats struct {
	Sent       uint64 `json:"sent"`
	Delivered  uint64 `json:"delivered"`
	Dropped    uint64 `json:"dropped"`
	Duplicated uint64 `json:"duplicated"`
}

type nodeSlot struct {
	id       NodeID
	server   bool
	factory  Factory
	inst     Node
	up       bool
	inc      uint32 // incarnation: bumped by crash and restart
	timerGen [MaxTimerKinds]uint32
	rng      *Rand
	disk     *Disk
	env      nodeEnv

	// Fault state (mechanisms.go): a paused node, or one busy in a slow sync,
	// has its deliveries and timers held until it runs again.
	paused     bool
	busyUntil  Time
	stalled    time.Duration // on its clock, held by pauses and slow syncs: World.Stalled
	pausedAt   Time          // its clock's reading when the current pause began
	backlog    []event       // what arrived while the node could not run, in order
	releasing  bool          // the backlog's head is back in the queue
	starting   bool          // the instance has not run Start yet: nothing else may reach it
	clock      nodeClock
	clockHigh  Time // the furthest its clock read before a step back: World.ClockBehind
	timers     pendingTimers
	diskFaults DiskFaults
	buggify    *Rand
	tear       tearState // a crash armed to cut the node's next step (tear.go)
}

type control struct {
	label string
	fn    func()
}

// World is one deterministic simulation: nodes, network, disks, clock, queue.
// It is single-threaded: every method must be called from the goroutine that
// runs it, between events (from a control action or an observer) or before Run.
type World struct {
	cfg       Config
	streams   Streams
	named     map[string]*Rand
	now       Time
	q         eventQueue
	nodes     []*nodeSlot
	servers   []NodeID
	clients   []NodeID
	net       *network
	tr        tracer
	controls  []control
	freeCtl   []uint32 // slots of controls that ran, reused: a long run schedules millions
	observers []func(Observation)
	msgHooks  []func(MessageEvent) // OnMessage (termed.go)
	effects   []effect
	observed  []Observation // the step's observations, effObserve effects index them
	obsText   []byte        // the Bytes of the step's observations, copied by Observe
	stopped   bool
	stopWhy   string
	limited   bool // the event bound cut a RunUntil short
	crash     *Crash
	msgs      MessageStats
	started   bool
	clogged   []event         // deliveries waiting for a clogged link, in arrival order
	held      int             // events held: in clogged and in every node's backlog
	stepping  bool            // a handler runs or its effects apply (invoke)
	sites     map[string]bool // buggify sites enabled in this run
	calm      bool            // QuietCode: no fault point fires any more
	signed    map[Signature]struct{}
	diskOps   []diskEffect      // the disk effects of a handler being torn (tear.go)
	probes    map[string]uint64 // coverage probes fired (probe.go)
}

// NewWorld builds an empty world. Add servers, then clients, then run it.
func NewWorld(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	w := &World{cfg: cfg, streams: NewStreams(cfg.Seed), named: map[string]*Rand{}, sites: map[string]bool{}, signed: map[Signature]struct{}{}}
	w.tr.setSink(cfg.Trace)
	return w, nil
}

// Stream returns the named random stream ("network", "faults", "workload", ...),
// creating it on first use. Each name gets its own independent sequence.
func (w *World) Stream(name string) *Rand {
	r, ok := w.named[name]
	if !ok {
		r = w.streams.Stream(name)
		w.named[name] = r
	}
	return r
}

// AddServer adds a protocol node with a disk. Servers must be added before
// clients and before the run starts.
func (w *World) AddServer(f Factory) NodeID {
	if len(w.clients) > 0 || w.started {
		panic("sim: AddServer after clients or after the run started")
	}
	id := w.add(f, true)
	w.servers = append(w.servers, id)
	return id
}

// AddClient adds a diskless node (a client) after the servers.
func (w *World) AddClient(f Factory) NodeID {
	if w.started {
		panic("sim: AddClient after the run started")
	}
	id := w.add(f, false)
	w.clients = append(w.clients, id)
	return id
}

func (w *World) add(f Factory, server bool) NodeID {
	if w.net != nil { // the network's link and cut tables are sized by now
		panic("sim: add every node before the first control call (Cut, Partition, SetLink, ...)")
	}
	id := NodeID(len(w.nodes))
	s := &nodeSlot{id: id, server: server, factory: f, rng: w.streams.Stream(fmt.Sprintf("node/%d", id))}
	if server {
		s.disk = NewDisk()
	}
	s.env = nodeEnv{w: w, slot: s}
	w.nodes = append(w.nodes, s)
	return id
}

// Servers lists the server IDs. Clients lists the client IDs. Do not modify.
func (w *World) Servers() []NodeID { return w.servers }

// Clients lists the client IDs. Do not modify.
func (w *World) Clients() []NodeID { return w.clients }

// Now is the virtual time of the event being processed (or last processed).
func (w *World) Now() Time { return w.now }

// Events is the number of events processed so far.
func (w *World) Events() uint64 { return w.tr.count }

// Up reports whether node id is running (not crashed).
func (w *World) Up(id NodeID) bool { return w.nodes[id].up }

// Disk returns node id's disk (nil for clients), for tests and inspection.
func (w *World) Disk(id NodeID) *Disk { return w.nodes[id].disk }

// Node returns node id's running instance (nil while crashed), for tests.
// Checkers must not use it: they judge observations, not internals.
func (w *World) Node(id NodeID) Node { return w.nodes[id].inst }

// OnObservation registers fn to see every observation as it is made, in order.
// fn may call Stop to end the run at that event.
func (w *World) OnObservation(fn func(Observation)) { w.observers = append(w.observers, fn) }

// At schedules a control action at time t (not before now). The label appears
// in the trace. Actions scheduled for the same time run in scheduling order.
func (w *World) At(t Time, label string, fn func()) {
	if t < w.now {
		t = w.now
	}
	var slot uint32
	if n := len(w.freeCtl); n > 0 {
		slot, w.freeCtl = w.freeCtl[n-1], w.freeCtl[:n-1]
		w.controls[slot] = control{label: label, fn: fn}
	} else {
		slot = uint32(len(w.controls))
		w.controls = append(w.controls, control{label: label, fn: fn})
	}
	w.q.push(event{at: t, kind: evControl, gen: slot, node: None, from: None})
}

// Stop ends the run after the current event, with a reason for the report.
func (w *World) Stop(reason string) {
	if !w.stopped {
		w.stopped, w.stopWhy = true, reason
	}
}

// Result summarizes the run so far.
func (w *World) Result() Result {
	r := Result{Events: w.tr.count, Now: w.now, Hash: uint64(w.tr.hash), Crash: w.crash,
		Messages: w.msgs, StopReason: w.stopWhy}
	switch {
	case w.crash != nil:
		r.Outcome = Crashed
	case w.stopped:
		r.Outcome = Stopped
	case w.limited:
		r.Outcome = EventLimit
	default:
		r.Outcome = Reached
	}
	return r
}

// RecentTrace returns the last trace lines, oldest first, for reports.
func (w *World) RecentTrace() []string { return w.tr.recent() }

// FlushTrace flushes the JSONL trace sink, reporting any write error.
func (w *World) FlushTrace() error { return w.tr.flush() }

// RunUntil processes events up to and including deadline, then sets the clock
// to deadline. It returns early if the run is stopped, a node crashes, or the
// event bound is hit; the Outcome says which. Calling it again continues.
func (w *World) RunUntil(deadline Time) Outcome {
	w.startNodes()
	for w.q.Len() > 0 {
		if w.stopped || w.crash != nil {
			return w.Result().Outcome
		}
		if w.q.peekTime() > deadline {
			break
		}
		// Only a run with work left before its deadline is cut short by the
		// bound; one that used exactly MaxEvents and is done has Reached.
		if w.tr.count >= w.cfg.MaxEvents {
			w.limited = true
			return EventLimit
		}
		if w.q.Len()+w.held > maxPending {
			w.Stop(fmt.Sprintf("more than %d events pending at once at t=%v: timers or messages are scheduled faster than the run "+
				"handles them (an interval of nanoseconds against a latency of milliseconds?)", maxPending, w.now))
			return Stopped
		}
		slot := w.q.pop()
		e := &w.q.slab[slot]
		w.now = e.at
		w.dispatch(e)
		w.q.release(slot)
	}
	if w.stopped || w.crash != nil {
		return w.Result().Outcome
	}
	if deadline > w.now {
		w.now = deadline
	}
	return Reached
}

// startNodes boots every node at time zero, in ID order, the first time.
func (w *World) startNodes() {
	if w.started {
		return
	}
	w.started = true
	w.startNetwork()
	for _, s := range w.nodes {
		s.up, s.starting = true, true
		s.inc++
		s.inst = s.instance()
		w.q.push(event{at: w.now, kind: evStart, node: s.id, from: None, inc: s.inc})
	}
}

func (w *World) dispatch(e *event) {
	switch e.kind {
	case evDeliver, evTimer, evStart:
		s := w.nodes[e.node]
		// A released head of a crashed incarnation's backlog is not the
		// new incarnation's: its own may be in flight meanwhile.
		current := e.released && e.inc == s.inc
		if current {
			s.releasing = false
		}
		w.dispatchToNode(e)
		if current {
			w.releaseNext(s) // the backlog drains one event at a time
		}
	case evControl:
		c := w.controls[e.gen]
		w.controls[e.gen] = control{} // the closure may hold much: let it go
		w.freeCtl = append(w.freeCtl, e.gen)
		w.tr.event(w.now, traceControl, None, c.label)
		c.fn()
	case evWake:
		w.releaseNext(w.nodes[e.node])
	}
}

// dispatchToNode handles an event aimed at a node: a delivery, a timer or a
// start, unless the node cannot take it now.
func (w *World) dispatchToNode(e *event) {
	switch e.kind {
	case evDeliver:
		w.deliver(e)
	case evTimer:
		s := w.nodes[e.node]
		if !s.up || e.inc != s.inc || e.gen != s.timerGen[e.tk] {
			return // cancelled, replaced, or set by a crashed incarnation
		}
		if w.holdIfBlocked(e) {
			return
		}
		s.timers.fired(e.tk)
		w.tr.timer(w.now, e.node, e.tk)
		w.invoke(s, e)
	case evStart:
		s := w.nodes[e.node]
		if !s.up || e.inc != s.inc {
			return
		}
		if w.holdIfBlocked(e) {
			return
		}
		s.starting = false
		w.tr.event(w.now, traceStart, e.node, "")
		w.invoke(s, e)
		w.releaseNext(s) // what arrived before Start may reach the node now
	}
}

func (w *World) deliver(e *event) {
	s := w.nodes[e.node]
	switch {
	case !s.up, e.released && e.inc != s.inc:
		// Down, or back up since it crashed with this in its backlog: what
		// had reached the crashed instance died with it.
		w.drop(e.from, e.node, e.msg, e.sum, "target-down")
	case !e.released && w.net.isCut(e.from, e.node):
		// A released delivery reached the node before it was held: the
		// link was judged then.
		w.drop(e.from, e.node, e.msg, e.sum, "cut-in-flight")
	case w.holdIfBlocked(e):
	default:
		w.msgs.Delivered++
		w.tr.message(w.now, traceDeliver, e.node, e.from, "", e.msg, e.sum)
		for _, fn := range w.msgHooks {
			fn(MessageEvent{From: e.from, To: e.node, Msg: e.msg, SentAt: e.sent})
		}
		w.invoke(s, e)
	}
}

// drop traces the loss of m, whose digest is sum, for reason.
func (w *World) drop(from, to NodeID, m Message, sum uint32, reason string) {
	w.msgs.Dropped++
	w.tr.message(w.now, traceDrop, to, from, reason, m, sum)
}

// invoke runs one handler of s for e, recovering a panic into a Crash, then
// applies the handler's effects.
func (w *World) invoke(s *nodeSlot, e *event) {
	w.stepping = true
	w.step(s, e)
	w.stepping = false
}

// step is invoke's work: the handler, then its effects, in order, until an
// observer crashes the node (the rest of its step never happened, as in a
// torn step).
func (w *World) step(s *nodeSlot, e *event) {
	w.effects, w.obsText = w.effects[:0], w.obsText[:0]
	w.forgetObserved()
	var syncs uint64
	slowDisk := s.diskFaults.SyncLatencyMax > 0
	if slowDisk {
		syncs = s.disk.syncCount()
	}
	if s.tear.armed {
		w.watchDisk(s)
	}
	if !w.call(s, e) {
		w.effects = w.effects[:0]
		if s.tear.armed && s.disk != nil {
			s.disk.tap, s.tear.before = nil, nil
		}
		return
	}
	if s.tear.armed && w.tearStep(s) {
		return
	}
	// A slow disk: a handler that synced is blocked until the sync is done,
	// so its sends leave late and the node handles nothing meanwhile.
	var delay time.Duration
	if slowDisk {
		delay = w.slowSync(s, syncs)
	}
	inc := s.inc
	for i := range w.effects {
		if s.inc == inc {
			w.apply(s, &w.effects[i], delay)
		}
		w.effects[i] = effect{}
	}
	w.effects = w.effects[:0]
}

func (w *World) call(s *nodeSlot, e *event) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			w.crash = &Crash{Node: s.id, Event: w.tr.count, At: w.now,
				Value: PanicValue(r), Stack: handlerStack(string(debug.Stack())), Recent: w.tr.recent()}
			ok = false
		}
	}()
	env := &s.env
	switch e.kind {
	case evDeliver:
		s.inst.Receive(env, e.from, e.msg)
	case evTimer:
		s.inst.Timer(env, e.tk)
	case evStart:
		s.inst.Start(env)
	case evOperate:
		s.inst.(Operable).Operate(env, e.msg)
	}
	return true
}

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// effectKind is what a handler asked for.
type effectKind uint8

const (
	effSend effectKind = iota + 1
	effSetTimer
	effCancelTimer
	effObserve
	effDisk // a disk write, delete or sync, recorded only while a torn step is armed (tear.go)
)

// effect is one effect of a handler. An observation is kept apart, in
// World.observed, so that every effect stays small: a handler's timers and
// sends are most of them, and each is copied in and cleared out.
type effect struct {
	kind effectKind
	to   NodeID
	tk   TimerKind
	op   int32 // effDisk: index into World.diskOps; effObserve: into World.observed
	d    time.Duration
	msg  Message
}

func (w *World) apply(s *nodeSlot, ef *effect, delay time.Duration) {
	switch ef.kind {
	case effSend:
		w.send(s.id, ef.to, ef.msg, delay)
	case effSetTimer:
		w.armTimer(s, ef.tk, s.clock.local(w.now).Add(ef.d))
	case effCancelTimer:
		s.timerGen[ef.tk]++
		s.timers.fired(ef.tk)
	case effObserve:
		o := &w.observed[ef.op]
		o.Node, o.Incarnation = s.id, s.inc
		w.tr.observation(w.now, o)
		for _, fn := range w.observers {
			fn(*o)
		}
	}
}

// send puts m on the wire from -> to. A cut link loses it at once; otherwise
// the link's loss, latency and duplication are drawn from the network stream.
func (w *World) send(from, to NodeID, m Message, delay time.Duration) {
	w.msgs.Sent++
	sum := w.tr.digest(m) // once: the delivery, hold or drop reuses it
	w.tr.message(w.now, traceSend, from, to, "", m, sum)
	for _, fn := range w.msgHooks {
		fn(MessageEvent{Sent: true, From: from, To: to, Msg: m, SentAt: w.now})
	}
	if w.net.isCut(from, to) {
		w.drop(from, to, m, sum, "cut")
		return
	}
	l := w.net.link(from, to)
	// A zero probability draws nothing, so a calm link costs no draws; turning
	// loss on for a link shifts only the network stream, never another.
	if l.Drop > 0 && w.net.rng.Chance(l.Drop) {
		w.drop(from, to, m, sum, "loss")
		return
	}
	depart := w.now.Add(delay)
	w.q.push(event{at: depart.Add(w.net.latency(l)), kind: evDeliver, node: to, from: from, msg: m, sum: sum, sent: w.now})
	if l.Duplicate > 0 && w.net.rng.Chance(l.Duplicate) {
		w.msgs.Duplicated++
		w.q.push(event{at: depart.Add(w.net.latency(l)), kind: evDeliver, node: to, from: from, msg: m, sum: sum, sent: w.now})
	}
}

// nodeEnv is the Env handed to a node's handlers; one per node, reused.
type nodeEnv struct {
	w    *World
	slot *nodeSlot
}

func (e *nodeEnv) ID() NodeID        { return e.slot.id }
func (e *nodeEnv) Servers() []NodeID { return e.w.servers }
func (e *nodeEnv) Now() Time         { return e.slot.clock.local(e.w.now) }
func (e *nodeEnv) Rand() *Rand       { return e.slot.rng }
func (e *nodeEnv) Disk() *Disk       { return e.slot.disk }

func (e *nodeEnv) Send(to NodeID, m Message) {
	if int(to) < 0 || int(to) >= len(e.w.nodes) {
		panic(fmt.Sprintf("sim: send to unknown node %d", to))
	}
	e.w.effects = append(e.w.effects, effect{kind: effSend, to: to, msg: m})
}

func (e *nodeEnv) SetTimer(k TimerKind, d time.Duration) {
	if k >= MaxTimerKinds {
		panic(fmt.Sprintf("sim: timer kind %d out of range", k))
	}
	if d < 0 {
		d = 0
	}
	e.w.effects = append(e.w.effects, effect{kind: effSetTimer, tk: k, d: d})
}

func (e *nodeEnv) CancelTimer(k TimerKind) {
	if k >= MaxTimerKinds {
		panic(fmt.Sprintf("sim: timer kind %d out of range", k))
	}
	e.w.effects = append(e.w.effects, effect{kind: effCancelTimer, tk: k})
}

func (e *nodeEnv) Observe(o Observation) {
	if len(o.Bytes) > 0 {
		// An append past the arena's capacity moves it, and leaves what
		// earlier observations of the step point at as it was.
		start := len(e.w.obsText)
		e.w.obsText = append(e.w.obsText, o.Bytes...)
		o.Bytes = e.w.obsText[start:len(e.w.obsText):len(e.w.obsText)]
	}
	e.w.observed = append(e.w.observed, o)
	e.w.effects = append(e.w.effects, effect{kind: effObserve, op: int32(len(e.w.observed) - 1)})
}

// forgetObserved empties the step's observations, letting go of what they
// hold (texts).
func (w *World) forgetObserved() {
	clear(w.observed)
	w.observed = w.observed[:0]
}

func (e *nodeEnv) Sign(digest uint64) Signature {
	sig := Signature{Signer: e.slot.id, Digest: digest}
	e.w.signed[sig] = struct{}{}
	return sig
}

func (e *nodeEnv) Verify(sig Signature) bool {
	_, ok := e.w.signed[sig]
	return ok
}
