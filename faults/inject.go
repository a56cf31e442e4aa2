package faults

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/simrun/simrun/sim"
)

// StreamName is the world stream every fault draws from.
const StreamName = "faults"

// Counts is what an Injector did, for the run summary. Only effective actions
// count: crashing a node that is already down is a skip, not a crash.
type Counts struct {
	Crashes    int // servers crashed
	Restarts   int // servers restarted (after down, by a restart step, or RestartAll)
	Partitions int // partition actions applied
	Cuts       int // one-way cuts applied
	Heals      int // heals that removed at least one cut made here
	Skipped    int // firings that did nothing (target already down, max_down reached, stopped)
}

// String is "crashes=3 restarts=3 partitions=2 cuts=0 heals=2 skipped=1".
func (c Counts) String() string {
	return fmt.Sprintf("crashes=%d restarts=%d partitions=%d cuts=%d heals=%d skipped=%d",
		c.Crashes, c.Restarts, c.Partitions, c.Cuts, c.Heals, c.Skipped)
}

// Injector applies a Plan to a world. Its methods must be called from the
// world's goroutine (before the run, or from a control action or observer),
// like every World method.
type Injector struct {
	w       *sim.World
	plan    Plan
	rng     *sim.Rand
	servers []sim.NodeID
	labels  []string // per step, computed once

	// The leader of the highest term announced so far; None once it crashed.
	leader     sim.NodeID
	leaderTerm uint64

	crashGen []uint32 // per server: bumped at each crash, to void stale restarts
	cutsMade bool     // some cut of ours may still be in place
	stopped  bool
	counts   Counts
}

// Install validates p against w's servers and schedules every step with w.At.
// Call it after the servers are added. Times are absolute virtual times; a
// step whose time has passed fires at once. Install registers an observer to
// follow the leader.
func Install(w *sim.World, p Plan) (*Injector, error) {
	servers := w.Servers()
	if err := p.Validate(len(servers)); err != nil {
		return nil, err
	}
	in := &Injector{
		w: w, plan: p, rng: w.Stream(StreamName), servers: servers,
		leader: sim.None, crashGen: make([]uint32, len(servers)),
	}
	w.OnObservation(in.observe)
	for i, s := range p.Steps {
		in.labels = append(in.labels, "faults["+strconv.Itoa(i)+"] "+s.Describe())
		if s.Repeats() {
			in.scheduleRepeat(i, sim.Time(s.From))
		} else {
			w.At(sim.Time(s.At), in.labels[i], func() { in.fire(i) })
		}
	}
	return in, nil
}

// scheduleRepeat schedules firing i of a repeating step at t, which schedules
// the next one: the schedule is lazy, so a long window costs nothing upfront.
func (in *Injector) scheduleRepeat(i int, t sim.Time) {
	s := in.plan.Steps[i]
	if t >= sim.Time(s.To) {
		return
	}
	in.w.At(t, in.labels[i], func() {
		if in.stopped {
			in.counts.Skipped++
			return
		}
		in.fire(i)
		in.scheduleRepeat(i, t.Add(s.Every.Duration()))
	})
}

// Counts returns what the injector has done so far.
func (in *Injector) Counts() Counts { return in.counts }

// Summary is Counts in words, for reports.
func (in *Injector) Summary() string { return in.counts.String() }

// Leader returns the current leader as the injector sees it (see the package
// doc), or sim.None.
func (in *Injector) Leader() sim.NodeID {
	if in.leader != sim.None && in.w.Up(in.leader) {
		return in.leader
	}
	return sim.None
}

// Stop ends the schedule: every later firing, including pending restarts after
// down, does nothing. Call it at the end of the safety phase, before HealAll
// and RestartAll.
func (in *Injector) Stop() { in.stopped = true }

// HealAll removes every cut at once.
func (in *Injector) HealAll() { in.heal() }

// RestartAll restarts every crashed server, in ID order.
func (in *Injector) RestartAll() {
	for _, id := range in.servers {
		in.restart(id)
	}
}

// observe follows leadership: the leader of the highest term wins. An equal
// term from another node (a safety violation for the checkers) takes over.
func (in *Injector) observe(o sim.Observation) {
	if o.Kind != sim.ObsLeader || !in.isServer(o.Node) || o.Term < in.leaderTerm {
		return
	}
	in.leader, in.leaderTerm = o.Node, o.Term
}

func (in *Injector) isServer(id sim.NodeID) bool { return id >= 0 && int(id) < len(in.servers) }

// fire runs step i's action now.
func (in *Injector) fire(i int) {
	if in.stopped {
		in.counts.Skipped++
		return
	}
	s := in.plan.Steps[i]
	switch s.Action() {
	case "partition":
		in.partition(i, *s.Partition)
	case "cut":
		in.cut(i, *s.Cut)
	case "heal":
		in.heal()
	case "crash":
		in.crash(i, s)
	case "restart":
		in.restartStep(i, s.Restart)
	}
}

// note writes an explanation into the trace, as a control line right after
// the current event (the control API is the only trace a fault can write).
func (in *Injector) note(i int, format string, args ...any) {
	in.w.At(in.w.Now(), "faults["+strconv.Itoa(i)+"] "+fmt.Sprintf(format, args...), func() {})
}

func (in *Injector) skip(i int, format string, args ...any) {
	in.counts.Skipped++
	in.note(i, "skipped: "+format, args...)
}

// upServers lists the running servers other than except, in ID order.
func (in *Injector) upServers(except sim.NodeID) []sim.NodeID {
	var up []sim.NodeID
	for _, id := range in.servers {
		if id != except && in.w.Up(id) {
			up = append(up, id)
		}
	}
	return up
}

// pick draws a server, preferring running ones: faults aimed at a crashed
// server are mostly wasted. except is never picked (sim.None for nobody).
func (in *Injector) pick(except sim.NodeID) sim.NodeID {
	candidates := in.upServers(except)
	if len(candidates) == 0 {
		for _, id := range in.servers {
			if id != except {
				candidates = append(candidates, id)
			}
		}
	}
	if len(candidates) == 0 {
		return sim.None
	}
	return candidates[in.rng.IntN(len(candidates))]
}

// resolve turns a node, random or leader target into a server. A random draw
// happens only for random targets, or for a leader target with no known
// leader, which the trace explains.
func (in *Injector) resolve(i int, t Target, except sim.NodeID) sim.NodeID {
	switch t.Kind {
	case TargetNode:
		return sim.NodeID(t.Node)
	case TargetLeader:
		l := in.Leader()
		if l != sim.None && l != except {
			return l
		}
		id := in.pick(except)
		if l == sim.None {
			in.note(i, "no leader known: %v drawn at random", id)
		} else {
			in.note(i, "leader %v is the other end: %v drawn at random", l, id)
		}
		return id
	default:
		return in.pick(except)
	}
}

func (in *Injector) partition(i int, p Partition) {
	var groups [][]sim.NodeID
	switch {
	case p.Isolate.Kind != TargetNone:
		x := in.resolve(i, p.Isolate, sim.None)
		rest := make([]sim.NodeID, 0, len(in.servers)-1)
		for _, id := range in.servers {
			if id != x {
				rest = append(rest, id)
			}
		}
		groups = [][]sim.NodeID{{x}, rest}
	case p.Halves:
		perm := in.rng.Perm(len(in.servers))
		minority := len(in.servers) / 2
		groups = [][]sim.NodeID{nodeIDs(perm[:minority]), nodeIDs(perm[minority:])}
		slices.Sort(groups[0])
		slices.Sort(groups[1])
	default:
		for _, g := range p.Groups {
			groups = append(groups, nodeIDs(g))
		}
	}
	in.w.Partition(groups...)
	in.cutsMade = true
	in.counts.Partitions++
}

func (in *Injector) cut(i int, c Cut) {
	from := in.resolve(i, c.From, sim.None)
	to := in.resolve(i, c.To, from)
	if from == to || to == sim.None {
		in.skip(i, "cut %v->%v has one end", from, to)
		return
	}
	in.w.Cut(from, to)
	in.cutsMade = true
	in.counts.Cuts++
}

func (in *Injector) heal() {
	in.w.HealAll()
	if in.cutsMade {
		in.counts.Heals++
		in.cutsMade = false
	}
}

// downCount is the number of crashed servers.
func (in *Injector) downCount() int {
	return len(in.servers) - len(in.upServers(sim.None))
}

func (in *Injector) crash(i int, s Step) {
	if s.MaxDown > 0 && in.downCount() >= s.MaxDown {
		in.skip(i, "%d servers down, max_down is %d", in.downCount(), s.MaxDown)
		return
	}
	if s.Crash.Kind == TargetRandom && len(in.upServers(sim.None)) == 0 {
		in.skip(i, "every server is down")
		return
	}
	id := in.resolve(i, s.Crash, sim.None)
	if !in.w.Up(id) {
		in.skip(i, "%v is already down", id)
		return
	}
	in.w.Crash(id)
	in.crashGen[id]++
	in.counts.Crashes++
	if id == in.leader {
		in.leader = sim.None // its term stays the highest: a stale leader is no leader
	}
	if s.Down > 0 {
		gen := in.crashGen[id]
		label := in.labels[i] + ": restart " + id.String()
		in.w.At(in.w.Now().Add(s.Down.Duration()), label, func() {
			// Skip if stopped, or if the node was restarted and crashed again
			// meanwhile: that later crash owns the node's downtime.
			if !in.stopped && in.crashGen[id] == gen {
				in.restart(id)
			}
		})
	}
}

func (in *Injector) restartStep(i int, t Target) {
	if t.Kind == TargetAllDown {
		in.RestartAll()
		return
	}
	id := sim.NodeID(t.Node)
	if in.w.Up(id) {
		in.skip(i, "%v is already up", id)
		return
	}
	in.restart(id)
}

func (in *Injector) restart(id sim.NodeID) {
	if in.w.Up(id) {
		return
	}
	in.w.Restart(id)
	in.counts.Restarts++
}

func nodeIDs(ns []int) []sim.NodeID {
	ids := make([]sim.NodeID, len(ns))
	for i, n := range ns {
		ids[i] = sim.NodeID(n)
	}
	return ids
}
