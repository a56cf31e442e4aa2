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
	Crashes     int // servers crashed
	Restarts    int // servers restarted (after down, by a restart step, or RestartAll)
	Partitions  int // partition actions applied
	Cuts        int // one-way cuts applied
	Heals       int // heals that ended at least one fault made here
	Skipped     int // firings that did nothing (target already down, max_down reached, stopped)
	Pauses      int // servers paused
	Resumes     int // servers resumed
	Clogs       int // clog actions applied
	Links       int // link changes applied
	Clocks      int // clock rate changes and skews applied
	Disks       int // disk fault settings applied
	Corruptions int // durable records corrupted
	Transfers   int // transfer requests the leader took (it may decline one, as Raft does while a transfer runs)
	// MemberChanges counts configuration changes the leader took up.
	MemberChanges int
	// LeaderMisses counts faults aimed at the leader that found no leader
	// known and struck a server drawn at random: a protocol that never
	// announces a leader makes every leader fault a random one.
	LeaderMisses int
}

// String is "crashes=3 restarts=3 partitions=2 cuts=0 heals=2 skipped=1",
// followed by the rarer kinds when they happened ("pauses=1 resumes=1").
func (c Counts) String() string {
	b := fmt.Sprintf("crashes=%d restarts=%d partitions=%d cuts=%d heals=%d skipped=%d",
		c.Crashes, c.Restarts, c.Partitions, c.Cuts, c.Heals, c.Skipped)
	for _, x := range []struct {
		name string
		n    int
	}{{"pauses", c.Pauses}, {"resumes", c.Resumes}, {"clogs", c.Clogs}, {"links", c.Links},
		{"clocks", c.Clocks}, {"disks", c.Disks}, {"corruptions", c.Corruptions}, {"transfers", c.Transfers},
		{"member-changes", c.MemberChanges}, {"leader-misses", c.LeaderMisses}} {
		if x.n > 0 {
			b += " " + x.name + "=" + strconv.Itoa(x.n)
		}
	}
	return b
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
	// next is, per repeating step, the firing its lazy schedule reached
	// (in the queue, or fired); ahead holds the firings deferAt scheduled
	// before their turn, which the lazy schedule must not schedule again.
	next  []sim.Time
	ahead map[stepAt]bool
	// pushAhead is pushRepeat, reached through a field: the kinds' table
	// refers to the undos, which would refer back to it through fire.
	pushAhead func(i int, t sim.Time)

	// The leader of the highest term announced so far; None once it crashed.
	leader     sim.NodeID
	leaderTerm uint64
	// The configuration: the committed one of the highest index announced
	// (sim.ObsConfig), at first every server or what SetMembers says.
	members     sim.Members
	configIndex uint64
	// requested are the configurations a leader took a change to, oldest
	// first, that no server has announced yet: one may be chosen, and in
	// force, before anyone announces it.
	requested []sim.Members
	// damaged are the servers whose disks this injector corrupted: a
	// membership change never leaves them half of the configuration.
	damaged sim.Members
	// torn are the servers that crashed while their disk tore writes (a
	// torn overwrite may destroy the synced value it replaces).
	torn sim.Members
	// forGood are the servers down with no restart to come: like damaged
	// disks, they are lost to a configuration's majority (kind_corrupt.go).
	forGood sim.Members

	// Claims: the latest fault on a node or server link owns its undoing. A
	// pending restart, resume or revert acts only if its claim still holds,
	// so an older fault's timer never cuts a newer fault short.
	crashClaims, pauseClaims          claims // per server
	cutClaims, clogClaims, linkClaims claims // per server link, from*n+to

	linkChanged  []bool                         // per server link: settings differ from the default
	clockRates   *serverSetting[float64]        // normal: 1
	diskFaults   *serverSetting[sim.DiskFaults] // normal: none
	clockDrift   float64                        // what the protocol assumes of clocks (kind_clock.go)
	ratesSince   sim.Time                       // when the clock rates in force were set
	spreadBeyond bool                           // the rates before them ran beyond clockDrift
	beyond       beyondAssumptions              // where the faults went past it
	stopped      bool
	// heals counts heals: a swizzle's pending clogs and unclogs act only in
	// the heal generation that fired them, so a heal cancels them.
	heals  uint32
	counts Counts

	// What fired, with every random choice made concrete (pinned.go).
	firing   firing
	executed []Step
	struck   [][]sim.NodeID // per executed firing, what its leader targets struck
}

// claims holds one generation counter per cell (a server, or a link).
type claims []uint32

func (c claims) claim(i int) uint32         { c[i]++; return c[i] }
func (c claims) holds(i int, g uint32) bool { return c[i] == g }

// Install validates p against w's servers and schedules every step with w.At.
// Call it after the servers are added. Times are absolute virtual times; a
// step whose time has passed fires at once. Install registers an observer to
// follow the leader. The plan is copied: changing it afterwards changes
// nothing.
func Install(w *sim.World, p Plan) (*Injector, error) {
	servers := w.Servers()
	if err := p.Validate(len(servers)); err != nil {
		return nil, err
	}
	n := len(servers)
	in := &Injector{
		w: w, plan: Plan{Steps: slices.Clone(p.Steps)}, rng: w.Stream(StreamName), servers: servers, leader: sim.None,
		members:     sim.FirstMembers(n),
		crashClaims: make(claims, n), pauseClaims: make(claims, n), cutClaims: make(claims, n*n),
		clogClaims: make(claims, n*n), linkClaims: make(claims, n*n), linkChanged: make([]bool, n*n),
		clockRates: newServerSetting(n, 1.0, w.SetClockRate, "clock rate"),
		diskFaults: newServerSetting(n, sim.DiskFaults{}, w.SetDiskFaults, "disk faults"),
	}
	w.OnObservation(in.observe)
	in.next, in.pushAhead = make([]sim.Time, len(p.Steps)), in.pushRepeat
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
// A firing deferAt scheduled already is not scheduled twice.
func (in *Injector) scheduleRepeat(i int, t sim.Time) {
	s := in.plan.Steps[i]
	if t >= sim.Time(s.To) {
		return
	}
	in.next[i] = t
	if in.ahead[stepAt{i, t}] {
		delete(in.ahead, stepAt{i, t})
		return
	}
	in.pushRepeat(i, t)
}

func (in *Injector) pushRepeat(i int, t sim.Time) {
	in.w.At(t, in.labels[i], func() {
		in.fire(i)
		if !in.stopped {
			in.scheduleRepeat(i, t.Add(in.plan.Steps[i].Every.Duration()))
		}
	})
}

// stepAt is one firing of a repeating step: the step's index and its time.
type stepAt struct {
	step int
	at   sim.Time
}

// deferAt schedules fn, an undo or a later part of a step, at t. At one
// instant the steps fire first and then what earlier steps deferred to it,
// as a timeline pinned from the run (every firing a step of its own,
// scheduled at Install) replays it: a repeating step's firing at t is
// scheduled now, ahead of its lazy turn, unless it is in the queue already.
func (in *Injector) deferAt(t sim.Time, label string, fn func()) {
	for i, s := range in.plan.Steps {
		if !s.Repeats() || t < sim.Time(s.From) || t >= sim.Time(s.To) || t.Sub(sim.Time(s.From))%s.Every.Duration() != 0 {
			continue
		}
		if in.next[i] == t || in.ahead[stepAt{i, t}] {
			continue // in the queue already
		}
		if in.ahead == nil {
			in.ahead = map[stepAt]bool{}
		}
		in.ahead[stepAt{i, t}] = true
		in.pushAhead(i, t)
	}
	in.w.At(t, label, fn)
}

// Counts returns what the injector has done so far.
func (in *Injector) Counts() Counts { return in.counts }

// Summary is Counts in words, for reports.
func (in *Injector) Summary() string { return in.counts.String() }

// Damaged returns the servers whose disks this injector corrupted: they may
// need a majority of intact servers to recover what they lost.
func (in *Injector) Damaged() sim.Members { return in.damaged }

// DownForGood returns the servers down with no restart to come.
func (in *Injector) DownForGood() sim.Members { return in.forGood }

// TornDisks returns the servers that crashed while their disk tore writes.
func (in *Injector) TornDisks() sim.Members { return in.torn }

// Leader returns the current leader as the injector sees it (see the package
// doc), or sim.None.
func (in *Injector) Leader() sim.NodeID {
	if in.leader != sim.None && in.w.Up(in.leader) {
		return in.leader
	}
	return sim.None
}

// Stop ends the schedule: every later firing, every pending restart, resume
// or revert, and every mid-step crash that has not struck yet, does nothing.
// Call it at the end of the safety phase, then HealAll and RestartAll.
func (in *Injector) Stop() {
	in.stopped = true
	for _, id := range in.servers {
		in.w.DisarmTear(id)
	}
}

// HealAll ends every fault condition: it removes every cut (whoever made it)
// and every clog made here, gives changed links their default settings back,
// sets changed clocks back to rate 1 and clears disk faults. Clock jumps and
// corrupted records cannot be undone.
func (in *Injector) HealAll() { in.heal(HealEverything) }

// RestartAll restarts every crashed server and resumes every paused one, in
// ID order.
func (in *Injector) RestartAll() {
	for _, id := range in.servers {
		in.restart(id)
		in.resume(id)
	}
}

// observe follows leadership: the leader of the highest term wins. An equal
// term from another node (a safety violation for the checkers) takes over.
func (in *Injector) observe(o sim.Observation) {
	in.followConfig(o)
	if o.Kind != sim.ObsLeader || !in.isServer(o.Node) || o.Term < in.leaderTerm {
		return
	}
	in.leader, in.leaderTerm = o.Node, o.Term
}

func (in *Injector) isServer(id sim.NodeID) bool { return id >= 0 && int(id) < len(in.servers) }

// fire runs step i's action now.
func (in *Injector) fire(i int) {
	if in.stopped {
		in.skip(i, afterStop)
		return
	}
	s := in.plan.Steps[i]
	in.firing = firing{before: in.counts}
	defer in.record(s)
	if k, ok := kindNamed(s.Action()); ok {
		k.fire(in, i, s)
	}
}

// note writes an explanation into the trace, as a control line right after
// the current event (the control API is the only trace a fault can write).
func (in *Injector) note(i int, format string, args ...any) {
	in.w.At(in.w.Now(), "faults["+strconv.Itoa(i)+"] "+fmt.Sprintf(format, args...), func() {})
}

// afterStop is the note of an action that came due after Stop: the kernel has
// traced its label already, and without the note a reader of the trace would
// take it for a fault of the liveness phase. A firing's note starts
// "skipped:" and counts in Counts.Skipped; an undo's starts "did nothing:".
const afterStop = "the fault schedule has stopped"

func (in *Injector) skip(i int, format string, args ...any) {
	in.counts.Skipped++
	in.note(i, "skipped: "+format, args...)
}

// undoLater, when d is positive, runs undo on server id after d if claim g
// on it (in c) still holds then: a later fault on the server owns its undoing.
func (in *Injector) undoLater(i int, d Duration, what string, c claims, id sim.NodeID, g uint32, undo func(sim.NodeID)) {
	if d <= 0 {
		return
	}
	in.later(i, d, what, func() {
		if c.holds(int(id), g) {
			undo(id)
		} else {
			in.note(i, "did nothing: a later fault on %v owns its undoing", id)
		}
	})
}

// later runs undo after d, unless the schedule has stopped by then. The label
// says what it undoes.
func (in *Injector) later(i int, d Duration, what string, undo func()) {
	in.deferAt(in.w.Now().Add(d.Duration()), in.labels[i]+": "+what, func() {
		if in.stopped {
			in.note(i, "did nothing: "+afterStop)
			return
		}
		undo()
	})
}

// running reports whether a server is up and not paused.
func (in *Injector) running(id sim.NodeID) bool { return in.w.Up(id) && !in.w.Paused(id) }

// runningServers lists the running servers other than except, in ID order.
func (in *Injector) runningServers(except sim.NodeID) []sim.NodeID {
	var up []sim.NodeID
	for _, id := range in.servers {
		if id != except && in.running(id) {
			up = append(up, id)
		}
	}
	return up
}

// pick draws a server, preferring running ones: faults aimed at a crashed
// server are mostly wasted. except is never picked (sim.None for nobody).
func (in *Injector) pick(except sim.NodeID) sim.NodeID {
	candidates := in.runningServers(except)
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
			in.firing.leaders = append(in.firing.leaders, l)
			return l
		}
		id := in.pick(except)
		in.firing.leaders = append(in.firing.leaders, id)
		if l == sim.None {
			in.counts.LeaderMisses++
			in.note(i, "no leader known: %v drawn at random", id)
		} else {
			in.note(i, "leader %v is the other end: %v drawn at random", l, id)
		}
		return id
	default:
		id := in.pick(except)
		in.firing.picks = append(in.firing.picks, id)
		return id
	}
}

// downCount is the number of servers crashed or paused, or armed to crash
// mid-step: an armed server will go down when its next step runs, so it
// counts against max_down now, or two crashes admitted one after the other
// could leave more than max_down down.
func (in *Injector) downCount() int {
	down := 0
	for _, id := range in.servers {
		if !in.running(id) || in.w.TearArmed(id) {
			down++
		}
	}
	return down
}

// admit applies max_down: a crash or pause goes ahead only while fewer than
// MaxDown servers are down.
func (in *Injector) admit(i int, s Step) bool {
	if s.MaxDown > 0 && in.downCount() >= s.MaxDown {
		in.skip(i, "%d servers down, max_down is %d", in.downCount(), s.MaxDown)
		return false
	}
	return true
}

// nodeTarget resolves the target of a crash, pause, clock, disk or corrupt
// step, skipping (and returning None) when no server is running for random.
func (in *Injector) nodeTarget(i int, t Target) sim.NodeID {
	if t.Kind == TargetRandom && len(in.runningServers(sim.None)) == 0 {
		in.skip(i, "no server is running")
		return sim.None
	}
	return in.resolve(i, t, sim.None)
}
