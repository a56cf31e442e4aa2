package prototest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/simrun/simrun/checkers"
	"github.com/simrun/simrun/service"
	"github.com/simrun/simrun/sim"
)

// Envelope is a message in a Net's queue.
type Envelope struct {
	From, To sim.NodeID
	Msg      sim.Message
}

// String returns "n0 n1 MsgVote term=1 ...": sender, receiver, message.
func (e Envelope) String() string {
	b := append([]byte(e.From.String()), ' ')
	b = append(b, e.To.String()...)
	b = append(b, ' ')
	return string(e.Msg.AppendTrace(b))
}

// Net drives a protocol's servers by hand, without the kernel: the test
// decides which message is delivered when, which timers fire, when the clock
// moves and who crashes. N is the protocol's node type (what its factory
// returns), so that tests can look inside. Nodes with IDs from the number of
// servers on are clients: what is sent to them is collected, as Replies for
// service.Reply values.
//
// Handlers' sends join the back of Queue at once, and every observation goes
// to Obs and through the checkers package's agreement and one-leader-per-term
// invariants (Violations). Nothing is delivered unless the test asks.
type Net[N sim.Node] struct {
	t       testing.TB
	factory sim.Factory
	servers []sim.NodeID
	envs    []*Env
	nodes   []N
	up      []bool
	signed  map[sim.Signature]bool
	monitor *checkers.Monitor
	events  uint64
	lines   []string
	indent  string
	// vault holds the disks: sim.Disk's crash is the kernel's (unexported), so
	// a world with one idle server per node crashes each disk exactly as a run
	// would, losing the unsynced writes.
	vault        *sim.World
	vaultStarted bool

	// Now is the clock every Env reads.
	Now sim.Time
	// Queue holds the messages sent and not yet delivered or dropped, oldest first.
	Queue []Envelope
	// Obs lists every observation, in order.
	Obs []sim.Observation
	// Replies lists the service.Reply values delivered to clients.
	Replies []service.Reply
	// Delivered logs every message handed to a server.
	Delivered []Envelope
	// Drop, if set, loses the messages it returns true for when they would be delivered.
	Drop func(e Envelope) bool
	// FireAdvance moves the clock this far before each Fire: a protocol
	// whose timer handlers check a deadline sets it past every timeout.
	FireAdvance time.Duration
	// TimerNames names timer kinds in trace lines ("election"); unnamed kinds print as numbers.
	TimerNames map[sim.TimerKind]string
	// Bind and Finish are what the protocol's own handlers do first and
	// last (hand the node its Env; flush what the step buffered), for Do.
	Bind   func(n N, env *Env)
	Finish func(n N)
}

// NewNet builds servers 0..n-1 of factory, not started: their disks can be
// prepared first (Disk). A factory's nodes must be of type N.
func NewNet[N sim.Node](t testing.TB, n int, factory sim.Factory) *Net[N] {
	t.Helper()
	vault, err := sim.NewWorld(sim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tn := &Net[N]{t: t, factory: factory, nodes: make([]N, n), up: make([]bool, n), signed: map[sim.Signature]bool{},
		monitor: checkers.NewMonitor([]checkers.Invariant{checkers.NewAgreement(), checkers.NewOneLeaderPerTerm()}, nil),
		vault:   vault}
	for i := range n {
		tn.servers = append(tn.servers, sim.NodeID(i))
	}
	for i := range n {
		id := vault.AddServer(func(sim.NodeID) sim.Node { return idle{} })
		env := &Env{id: id, servers: tn.servers, now: func() sim.Time { return tn.Now }, rng: sim.NewRand(uint64(i) + 1),
			disk: vault.Disk(id), signed: tn.signed, Timers: map[sim.TimerKind]time.Duration{}}
		env.route = func(f Effect) { tn.route(env.id, f) }
		tn.envs = append(tn.envs, env)
	}
	return tn
}

// idle is the node of the disk vault: it never does anything.
type idle struct{}

func (idle) Start(sim.Env)                            {}
func (idle) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (idle) Timer(sim.Env, sim.TimerKind)             {}

// T is the test the Net fails.
func (tn *Net[N]) T() testing.TB { return tn.t }

// Servers lists the server IDs.
func (tn *Net[N]) Servers() []sim.NodeID { return tn.servers }

// Node returns server id's current instance (the zero N while it is down).
func (tn *Net[N]) Node(id sim.NodeID) N { return tn.nodes[id] }

// Up reports whether server id runs.
func (tn *Net[N]) Up(id sim.NodeID) bool { return tn.up[id] }

// Env returns server id's Env: its recorded effects and pending timers.
func (tn *Net[N]) Env(id sim.NodeID) *Env { return tn.envs[id] }

// Disk returns server id's disk.
func (tn *Net[N]) Disk(id sim.NodeID) *sim.Disk { return tn.envs[id].disk }

// Start boots a new instance of server id from the factory; it knows only its disk.
func (tn *Net[N]) Start(id sim.NodeID) {
	tn.t.Helper()
	n, ok := tn.factory(id).(N)
	if !ok {
		tn.t.Fatalf("prototest: the factory's node %v is not of the Net's node type", id)
	}
	tn.nodes[id], tn.up[id] = n, true
	tn.envs[id].incarnation++
	tn.line("start " + id.String())
	tn.handle(func() { n.Start(tn.envs[id]) })
}

// StartAll starts every server, in ID order.
func (tn *Net[N]) StartAll() {
	for _, id := range tn.servers {
		tn.Start(id)
	}
}

// Crash discards server id's instance and its pending timers; its disk loses
// every unsynced write, as in a run.
func (tn *Net[N]) Crash(id sim.NodeID) {
	var zero N
	tn.nodes[id], tn.up[id] = zero, false
	tn.envs[id].incarnation++
	clear(tn.envs[id].Timers)
	if !tn.vaultStarted {
		tn.vault.RunUntil(0) // boots the idle nodes, so that they can crash
		tn.vaultStarted = true
	}
	lost := tn.envs[id].disk.Unsynced()
	tn.vault.Crash(id)
	tn.vault.Restart(id) // the vault's node is up again for the next crash; the disk keeps what survived
	tn.line("crash " + id.String() + " lost-writes=" + strconv.Itoa(lost))
}

// TearWrites makes server id's disk tear its last unsynced write on every
// crash from now on, as sim.DiskFaults.TornWrites does in a run: a prefix of
// the unsynced writes reaches the disk, the last of them cut short.
func (tn *Net[N]) TearWrites(id sim.NodeID) { tn.SetDiskFaults(id, sim.DiskFaults{TornWrites: true}) }

// SetDiskFaults makes server id's disk misbehave on every crash from now on
// as f says (sim.DiskFaults): tear, or reorder, its unsynced writes.
func (tn *Net[N]) SetDiskFaults(id sim.NodeID, f sim.DiskFaults) {
	if err := tn.vault.SetDiskFaults(id, f); err != nil {
		tn.t.Fatal(err)
	}
}

// Restart crashes server id if it runs, then starts a new instance.
func (tn *Net[N]) Restart(id sim.NodeID) {
	if tn.up[id] {
		tn.Crash(id)
	}
	tn.Start(id)
}

// Within runs fn inside a handler of server id, as if the kernel called it:
// for driving a protocol's internal step (becoming candidate, starting a view
// change) without the message or timer that would cause it.
func (tn *Net[N]) Within(id sim.NodeID, fn func(n N, env *Env)) {
	tn.handle(func() { fn(tn.nodes[id], tn.envs[id]) })
}

// Do runs fn inside a handler of server id between Bind and Finish, as the
// protocol's own handlers run their steps: for scripting a node's internal
// methods.
func (tn *Net[N]) Do(id sim.NodeID, fn func(n N)) {
	tn.Within(id, func(n N, env *Env) {
		tn.Bind(n, env)
		fn(n)
		tn.Finish(n)
	})
}

// Inject queues m as if from had sent it to to.
func (tn *Net[N]) Inject(from, to sim.NodeID, m sim.Message) {
	tn.Queue = append(tn.Queue, Envelope{From: from, To: to, Msg: m})
}

// Request queues client's request for Cmd(client, seq, op) to server to, and returns the command.
func (tn *Net[N]) Request(client, to sim.NodeID, seq uint64, op string) service.Command {
	r := Request(client, seq, op)
	tn.Sign(client, r.Cmd.Digest()) // as the workload's clients sign what they send
	tn.Inject(client, to, r)
	return r.Cmd
}

// Sign makes id's signature of d, for a test that acts as replica id.
func (tn *Net[N]) Sign(id sim.NodeID, d uint64) sim.Signature {
	s := sim.Signature{Signer: id, Digest: d}
	tn.signed[s] = true
	return s
}

// DeliverOne hands e to its receiver now, whatever the queue holds: to a
// client it is collected, to a crashed server or one Drop rejects it is lost.
func (tn *Net[N]) DeliverOne(e Envelope) {
	if int(e.To) >= len(tn.nodes) {
		if r, ok := service.ReplyOf(e.Msg); ok {
			tn.Replies = append(tn.Replies, r)
		}
		tn.line("deliver " + e.To.String() + " " + e.From.String() + " " + string(e.Msg.AppendTrace(nil)))
		return
	}
	if !tn.up[e.To] || (tn.Drop != nil && tn.Drop(e)) {
		why := ""
		if !tn.up[e.To] {
			why = " (down)"
		}
		tn.line("drop " + e.To.String() + " " + e.From.String() + " " + string(e.Msg.AppendTrace(nil)) + why)
		return
	}
	tn.Delivered = append(tn.Delivered, e)
	tn.line("deliver " + e.To.String() + " " + e.From.String() + " " + string(e.Msg.AppendTrace(nil)))
	n := tn.nodes[e.To]
	tn.handle(func() { n.Receive(tn.envs[e.To], e.From, e.Msg) })
}

// Step delivers the oldest queued message and reports whether there was one.
func (tn *Net[N]) Step() bool {
	if len(tn.Queue) == 0 {
		return false
	}
	e := tn.Queue[0]
	tn.Queue = tn.Queue[1:]
	tn.DeliverOne(e)
	return true
}

// maxDeliveries bounds Stabilize: a protocol that never goes quiet fails the
// test instead of hanging it.
const maxDeliveries = 1_000_000

// Stabilize delivers queued messages oldest first, those sent in response
// included, until the queue is empty, and returns how many it delivered.
func (tn *Net[N]) Stabilize() int {
	tn.t.Helper()
	count := 0
	for tn.Step() {
		count++
		if count >= maxDeliveries {
			tn.t.Fatalf("prototest: the network never went quiet")
		}
	}
	return count
}

// Deliver delivers, oldest first, the messages queued now that match (nil
// matches all); messages they cause join the queue undelivered. It returns
// how many it delivered.
func (tn *Net[N]) Deliver(match func(Envelope) bool) int {
	batch := tn.Take(match)
	for _, e := range batch {
		tn.DeliverOne(e)
	}
	return len(batch)
}

// Take removes and returns the queued messages that match (nil matches all).
func (tn *Net[N]) Take(match func(Envelope) bool) []Envelope {
	var out []Envelope
	tn.Queue = slices.DeleteFunc(tn.Queue, func(e Envelope) bool {
		if match == nil || match(e) {
			out = append(out, e)
			return true
		}
		return false
	})
	return out
}

// DropQueued loses the queued messages that match, and returns how many.
func (tn *Net[N]) DropQueued(match func(Envelope) bool) int {
	lost := tn.Take(match)
	for _, e := range lost {
		tn.line("drop " + e.To.String() + " " + e.From.String() + " " + string(e.Msg.AppendTrace(nil)))
	}
	return len(lost)
}

// Duplicate queues a second copy of each queued message that matches, at the
// back of the queue, and returns how many.
func (tn *Net[N]) Duplicate(match func(Envelope) bool) int {
	var dup []Envelope
	for _, e := range tn.Queue {
		if match == nil || match(e) {
			dup = append(dup, e)
		}
	}
	tn.Queue = append(tn.Queue, dup...)
	return len(dup)
}

// Reorder reverses the order of the queued messages that match, leaving the
// others in place: the network's latencies are independent, so any order may happen.
func (tn *Net[N]) Reorder(match func(Envelope) bool) {
	var at []int
	for i, e := range tn.Queue {
		if match == nil || match(e) {
			at = append(at, i)
		}
	}
	for i, j := 0, len(at)-1; i < j; i, j = i+1, j-1 {
		tn.Queue[at[i]], tn.Queue[at[j]] = tn.Queue[at[j]], tn.Queue[at[i]]
	}
}

// Fire runs server id's timer of kind now, pending or not, after moving the
// clock by FireAdvance.
func (tn *Net[N]) Fire(id sim.NodeID, kind sim.TimerKind) {
	tn.Now = tn.Now.Add(tn.FireAdvance)
	delete(tn.envs[id].Timers, kind)
	tn.line("timer " + id.String() + " " + tn.TimerName(kind))
	n := tn.nodes[id]
	tn.handle(func() { n.Timer(tn.envs[id], kind) })
}

// TimerName is kind's name in trace lines.
func (tn *Net[N]) TimerName(kind sim.TimerKind) string {
	if name, ok := tn.TimerNames[kind]; ok {
		return name
	}
	return strconv.Itoa(int(kind))
}

// TimerKind is the timer kind TimerNames calls name.
func (tn *Net[N]) TimerKind(name string) (sim.TimerKind, bool) {
	for kind, n := range tn.TimerNames {
		if n == name {
			return kind, true
		}
	}
	return 0, false
}

// Advance moves the clock.
func (tn *Net[N]) Advance(d time.Duration) { tn.Now = tn.Now.Add(d) }

// Observed returns the observations of kind made by server id, in order.
func (tn *Net[N]) Observed(id sim.NodeID, kind sim.ObsKind) []sim.Observation {
	var out []sim.Observation
	for _, o := range tn.Obs {
		if o.Node == id && o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// Commits returns the digest each server committed at index, by server.
func (tn *Net[N]) Commits(index uint64) map[sim.NodeID]uint64 {
	out := map[sim.NodeID]uint64{}
	for _, o := range tn.Obs {
		if o.Kind == sim.ObsCommit && o.Index == index {
			out[o.Node] = o.Digest
		}
	}
	return out
}

// Violations returns the first violation of agreement and of
// one-leader-per-term among all observations so far, if any.
func (tn *Net[N]) Violations() []*checkers.Violation { return tn.monitor.Violations() }

// RequireSafe fails the test if the observations broke agreement or one
// leader per term.
func (tn *Net[N]) RequireSafe(t testing.TB) {
	t.Helper()
	for _, v := range tn.Violations() {
		t.Errorf("%v", v)
	}
}

// TakeTrace returns the trace lines since the last call: the kernel's
// canonical lines without their time ("deliver n1 n0 MsgVote ...", "obs n0
// leader term=1"), the effects of a handler indented under the event that ran
// it. Timer settings are left out (Env.Effects and Env.Timers have them).
func (tn *Net[N]) TakeTrace() []string {
	out := tn.lines
	tn.lines = nil
	return out
}

func (tn *Net[N]) line(s string) {
	tn.events++
	tn.lines = append(tn.lines, tn.indent+s)
}

// handle runs a handler with its effects' lines indented under its own.
func (tn *Net[N]) handle(fn func()) {
	saved := tn.indent
	tn.indent += "  "
	defer func() { tn.indent = saved }()
	fn()
}

// route applies one effect of server from's handler.
func (tn *Net[N]) route(from sim.NodeID, f Effect) {
	switch f.Kind {
	case EffectSend:
		tn.Queue = append(tn.Queue, Envelope{From: from, To: f.To, Msg: f.Msg})
		tn.line("send " + from.String() + " " + f.To.String() + " " + string(f.Msg.AppendTrace(nil)))
	case EffectObserve:
		tn.Obs = append(tn.Obs, f.Obs)
		tn.line("obs " + from.String() + " " + string(AppendObservation(nil, f.Obs)))
		tn.monitor.Observe(tn.Now, tn.events, f.Obs)
	}
}

// Format lists envelopes one a line, for failure messages and scripts.
func Format(q []Envelope) string {
	var b strings.Builder
	for _, e := range q {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// FlipBit damages the durable record under key the way sim.World.CorruptDisk
// does (one bit in the middle) and syncs it.
func FlipBit(t testing.TB, d *sim.Disk, key string) {
	t.Helper()
	b, ok := d.Get(key)
	if !ok {
		t.Fatalf("no record %q to corrupt", key)
	}
	b[len(b)/2] ^= 0x10
	d.Put(key, b)
	d.Sync()
}

// Agreement runs the checkers' agreement invariant over obs, in order, and
// returns its first violation, or nil.
func Agreement(obs []sim.Observation) *checkers.Violation {
	inv := checkers.NewAgreement()
	for i, o := range obs {
		if v := inv.Observe(0, uint64(i+1), o); v != nil {
			return v
		}
	}
	return nil
}
