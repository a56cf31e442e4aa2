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
		{"clocks", c.Clocks}, {"disks", c.Disks}, {"corruptions", c.Corruptions},
		{"leader-misses", c.LeaderMisses}} {
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

	// The leader of the highest term announced so far; None once it crashed.
	leader     sim.NodeID
	leaderTerm uint64

	// Claims: the latest fault on a node or server link owns its undoing. A
	// pending restart, resume or revert acts only if its claim still holds,
	// so an older fault's timer never cuts a newer fault short.
	crashClaims, pauseClaims, clockClaims, diskClaims claims // per server
	cutClaims, clogClaims, linkClaims                 claims // per server link, from*n+to

	linkChanged  []bool // per server link: settings differ from the default
	clockChanged []bool // per server: rate differs from 1
	diskChanged  []bool // per server: disk faults set
	stopped      bool
	// heals counts heals: a swizzle's pending clogs and unclogs act only in
	// the heal generation that fired them, so a heal cancels them.
	heals  uint32
	counts Counts

	// What fired, with every random choice made concrete (pinned.go).
	firing   firing
	executed []Step
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
		crashClaims: make(claims, n), pauseClaims: make(claims, n), clockClaims: make(claims, n),
		diskClaims: make(claims, n), cutClaims: make(claims, n*n), clogClaims: make(claims, n*n),
		linkClaims: make(claims, n*n), linkChanged: make([]bool, n*n), clockChanged: make([]bool, n),
		diskChanged: make([]bool, n),
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

func (in *Injector) skip(i int, format string, args ...any) {
	in.counts.Skipped++
	in.note(i, "skipped: "+format, args...)
}

// later runs undo after d, unless the schedule has stopped by then. The label
// says what it undoes.
func (in *Injector) later(i int, d Duration, what string, undo func()) {
	in.w.At(in.w.Now().Add(d.Duration()), in.labels[i]+": "+what, func() {
		if !in.stopped {
			undo()
		}
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
			return l
		}
		id := in.pick(except)
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

// downCount is the number of servers crashed or paused.
func (in *Injector) downCount() int { return len(in.servers) - len(in.runningServers(sim.None)) }

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

func (in *Injector) crash(i int, s Step) {
	switch s.Crash.Kind {
	case TargetAll:
		in.crashAll(i, s)
		return
	case TargetRolling:
		in.rollingRestart(i, s, 0)
		return
	}
	if !in.admit(i, s) {
		return
	}
	id := in.nodeTarget(i, s.Crash)
	if id == sim.None {
		return
	}
	if !in.w.Up(id) {
		in.skip(i, "%v is already down", id)
		return
	}
	if s.MidStep {
		in.crashMidStep(i, s, id)
		return
	}
	g := in.crashServer(id)
	if s.Down > 0 {
		in.later(i, s.Down, "restart "+id.String(), func() {
			if in.crashClaims.holds(int(id), g) {
				in.restart(id)
			}
		})
	}
}

// crashMidStep arms a torn step on id; the crash, its count and its restart
// timer happen when the step is torn. Until then the server counts as up
// (max_down), and an armed server that is crashed otherwise is disarmed.
func (in *Injector) crashMidStep(i int, s Step, id sim.NodeID) {
	in.firing.scheduled = true // pinned even though nothing changed yet
	in.w.CrashMidStep(id, func() {
		g := in.crashed(id)
		if s.Down > 0 {
			in.later(i, s.Down, "restart "+id.String(), func() {
				if in.crashClaims.holds(int(id), g) {
					in.restart(id)
				}
			})
		}
	})
}

// crashServer crashes a server that is up and claims it; the claim is what a
// later restart of this crash must still hold.
func (in *Injector) crashServer(id sim.NodeID) uint32 {
	in.w.Crash(id)
	return in.crashed(id)
}

// crashed counts and claims a crash of id that just happened.
func (in *Injector) crashed(id sim.NodeID) uint32 {
	in.counts.Crashes++
	if id == in.leader {
		in.leader = sim.None // its term stays the highest: a stale leader is no leader
	}
	return in.crashClaims.claim(int(id))
}

func (in *Injector) pause(i int, s Step) {
	if !in.admit(i, s) {
		return
	}
	id := in.nodeTarget(i, s.Pause)
	if id == sim.None {
		return
	}
	if !in.running(id) {
		in.skip(i, "%v is already down or paused", id)
		return
	}
	in.w.Pause(id)
	in.counts.Pauses++
	g := in.pauseClaims.claim(int(id))
	if s.Down > 0 {
		in.later(i, s.Down, "resume "+id.String(), func() {
			if in.pauseClaims.holds(int(id), g) {
				in.resume(id)
			}
		})
	}
}

func (in *Injector) restartStep(i int, t Target) {
	if t.Kind == TargetAllDown {
		for _, id := range in.servers {
			in.restart(id)
		}
		return
	}
	id := sim.NodeID(t.Node)
	if in.w.Up(id) {
		in.skip(i, "%v is already up", id)
		return
	}
	in.restart(id)
}

func (in *Injector) resumeStep(i int, t Target) {
	if t.Kind == TargetAllPaused {
		for _, id := range in.servers {
			in.resume(id)
		}
		return
	}
	id := sim.NodeID(t.Node)
	if !in.w.Paused(id) {
		in.skip(i, "%v is not paused", id)
		return
	}
	in.resume(id)
}

func (in *Injector) restart(id sim.NodeID) {
	if in.w.Up(id) {
		return
	}
	in.w.Restart(id)
	in.counts.Restarts++
}

func (in *Injector) resume(id sim.NodeID) {
	if !in.w.Paused(id) {
		return
	}
	in.w.Resume(id)
	in.counts.Resumes++
}

func (in *Injector) clock(i int, s Step) {
	id := in.nodeTarget(i, s.Clock.Node)
	if id == sim.None {
		return
	}
	in.counts.Clocks++
	if s.Clock.Rate == 0 {
		in.w.SkewClock(id, s.Clock.Skew.Duration())
		return
	}
	in.setClockRate(id, s.Clock.Rate)
	g := in.clockClaims.claim(int(id))
	if s.For > 0 {
		in.later(i, s.For, "clock "+id.String()+" rate=1", func() {
			if in.clockClaims.holds(int(id), g) {
				in.setClockRate(id, 1)
			}
		})
	}
}

func (in *Injector) setClockRate(id sim.NodeID, rate float64) {
	if err := in.w.SetClockRate(id, rate); err != nil {
		panic("faults: validated clock rate refused: " + err.Error())
	}
	in.clockChanged[id] = rate != 1
}

func (in *Injector) disk(i int, s Step) {
	id := in.nodeTarget(i, s.Disk.Node)
	if id == sim.None {
		return
	}
	slow := s.Disk.slowSyncs()
	in.setDiskFaults(id, sim.DiskFaults{TornWrites: s.Disk.TornWrites,
		SyncLatencyMin: slow.Min.Duration(), SyncLatencyMax: slow.Max.Duration()})
	in.counts.Disks++
	g := in.diskClaims.claim(int(id))
	if s.For > 0 {
		in.later(i, s.For, "disk "+id.String()+" healthy", func() {
			if in.diskClaims.holds(int(id), g) {
				in.setDiskFaults(id, sim.DiskFaults{})
			}
		})
	}
}

func (in *Injector) setDiskFaults(id sim.NodeID, f sim.DiskFaults) {
	if err := in.w.SetDiskFaults(id, f); err != nil {
		panic("faults: validated disk faults refused: " + err.Error())
	}
	in.diskChanged[id] = f != sim.DiskFaults{}
}

func (in *Injector) corrupt(i int, s Step) {
	id := in.nodeTarget(i, s.Corrupt)
	if id == sim.None {
		return
	}
	if _, ok := in.w.CorruptDisk(id); !ok {
		in.skip(i, "%v has no record to corrupt", id)
		return
	}
	in.counts.Corruptions++
}

// heal ends the faults of a scope; it counts when something was to heal.
func (in *Injector) heal(scope string) {
	in.heals++
	healed := in.anyCut()
	in.w.HealAll()
	n := len(in.servers)
	for a := range n {
		for b := range n {
			if in.w.IsClogged(in.servers[a], in.servers[b]) {
				in.w.Unclog(in.servers[a], in.servers[b])
				healed = true
			}
			if in.linkChanged[a*n+b] {
				in.resetLink(a, b)
				healed = true
			}
		}
	}
	if scope == HealEverything {
		for id, changed := range in.clockChanged {
			if changed {
				in.setClockRate(sim.NodeID(id), 1)
				healed = true
			}
		}
		for id, changed := range in.diskChanged {
			if changed {
				in.setDiskFaults(sim.NodeID(id), sim.DiskFaults{})
				healed = true
			}
		}
	}
	if healed {
		in.counts.Heals++
	}
}

func (in *Injector) anyCut() bool {
	for _, a := range in.servers {
		for _, b := range in.servers {
			if in.w.IsCut(a, b) {
				return true
			}
		}
	}
	return false
}

// link is one directed server link, with its cell index.
type link struct {
	from, to sim.NodeID
	cell     int
}

func (in *Injector) linkOf(from, to sim.NodeID) link {
	return link{from: from, to: to, cell: int(from)*len(in.servers) + int(to)}
}

// groupLinks lists the links between servers of different groups, both ways.
func (in *Injector) groupLinks(groups [][]sim.NodeID) []link {
	var out []link
	for gi, g := range groups {
		for gj, h := range groups {
			if gi == gj {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					out = append(out, in.linkOf(a, b))
				}
			}
		}
	}
	return out
}

// claimLinks claims links for a fault and, with For, schedules undo for
// those whose claim still holds after it.
func (in *Injector) claimLinks(i int, s Step, c claims, links []link, what string, undo func(link)) {
	gens := make([]uint32, len(links))
	for k, l := range links {
		gens[k] = c.claim(l.cell)
	}
	if s.For <= 0 {
		return
	}
	in.later(i, s.For, what, func() {
		for k, l := range links {
			if c.holds(l.cell, gens[k]) {
				undo(l)
			}
		}
	})
}

func (in *Injector) uncut(l link) {
	if in.w.IsCut(l.from, l.to) {
		in.w.Uncut(l.from, l.to)
	}
}

func (in *Injector) partition(i int, s Step) {
	if s.Partition.Ring != nil {
		in.ring(i, s)
		return
	}
	groups := in.partitionGroups(i, *s.Partition)
	in.w.Partition(groups...)
	in.counts.Partitions++
	in.claimLinks(i, s, in.cutClaims, in.groupLinks(groups), "heal this partition", in.uncut)
}

func (in *Injector) partitionGroups(i int, p Partition) [][]sim.NodeID {
	switch {
	case p.Isolate.Kind != TargetNone:
		x := in.resolve(i, p.Isolate, sim.None)
		rest := make([]sim.NodeID, 0, len(in.servers)-1)
		for _, id := range in.servers {
			if id != x {
				rest = append(rest, id)
			}
		}
		return [][]sim.NodeID{{x}, rest}
	case p.Halves:
		perm := in.rng.Perm(len(in.servers))
		return in.drawnGroups(perm[:len(in.servers)/2], perm[len(in.servers)/2:])
	case p.Bridge:
		return in.bridgeGroups()
	}
	groups := make([][]sim.NodeID, 0, len(p.Groups))
	for _, g := range p.Groups {
		groups = append(groups, sortedIDs(g))
	}
	return groups
}

// drawnGroups makes groups of drawn servers and keeps them for pinning.
func (in *Injector) drawnGroups(drawn ...[]int) [][]sim.NodeID {
	groups := make([][]sim.NodeID, len(drawn))
	in.firing.groups = make([][]int, len(drawn))
	for k, g := range drawn {
		groups[k] = sortedIDs(g)
		in.firing.groups[k] = slices.Sorted(slices.Values(g))
	}
	return groups
}

// ends resolves the two ends of a directed link fault, or reports a skip.
func (in *Injector) ends(i int, from, to Target) (link, bool) {
	a := in.resolve(i, from, sim.None)
	b := in.resolve(i, to, a)
	if a == b || b == sim.None {
		in.skip(i, "link %v->%v has one end", a, b)
		return link{}, false
	}
	return in.linkOf(a, b), true
}

func (in *Injector) cut(i int, s Step) {
	l, ok := in.ends(i, s.Cut.From, s.Cut.To)
	if !ok {
		return
	}
	in.w.Cut(l.from, l.to)
	in.counts.Cuts++
	in.claimLinks(i, s, in.cutClaims, []link{l}, "uncut "+l.from.String()+"->"+l.to.String(), in.uncut)
}

func (in *Injector) clog(i int, s Step) {
	var links []link
	if !s.Clog.Node.IsZero() {
		x := in.resolve(i, s.Clog.Node, sim.None)
		for _, o := range in.servers {
			if o != x {
				links = append(links, in.linkOf(x, o), in.linkOf(o, x))
			}
		}
	} else {
		l, ok := in.ends(i, s.Clog.From, s.Clog.To)
		if !ok {
			return
		}
		links = []link{l}
	}
	for _, l := range links {
		in.w.Clog(l.from, l.to)
	}
	in.counts.Clogs++
	in.claimLinks(i, s, in.clogClaims, links, "unclog", func(l link) {
		if in.w.IsClogged(l.from, l.to) {
			in.w.Unclog(l.from, l.to)
		}
	})
}

func (in *Injector) link(i int, s Step) {
	var links []link
	if s.Link.From.IsZero() && s.Link.To.IsZero() {
		for _, a := range in.servers {
			for _, b := range in.servers {
				if a != b {
					links = append(links, in.linkOf(a, b))
				}
			}
		}
	} else {
		l, ok := in.ends(i, s.Link.From, s.Link.To)
		if !ok {
			return
		}
		links = []link{l}
	}
	for _, l := range links {
		in.setLink(l, s.Link.apply(in.w.Link(l.from, l.to)))
	}
	in.counts.Links++
	in.claimLinks(i, s, in.linkClaims, links, "links back to default", func(l link) {
		if in.linkChanged[l.cell] {
			in.resetLink(int(l.from), int(l.to))
		}
	})
}

func (in *Injector) setLink(l link, settings sim.Link) {
	if err := in.w.SetLink(l.from, l.to, settings); err != nil {
		panic("faults: validated link settings refused: " + err.Error())
	}
	in.linkChanged[l.cell] = settings != in.w.DefaultLink()
}

func (in *Injector) resetLink(a, b int) {
	in.setLink(in.linkOf(in.servers[a], in.servers[b]), in.w.DefaultLink())
}

// apply overlays the change on a link's settings.
func (l *LinkChange) apply(cur sim.Link) sim.Link {
	if l.Latency != nil {
		cur.LatencyMin, cur.LatencyMax = l.Latency.Min.Duration(), l.Latency.Max.Duration()
	}
	if l.Tail != nil {
		cur.TailProb, cur.TailMean = l.Tail.Probability, l.Tail.Mean.Duration()
	}
	if l.Drop != nil {
		cur.Drop = *l.Drop
	}
	if l.Duplicate != nil {
		cur.Duplicate = *l.Duplicate
	}
	return cur
}

func sortedIDs(ns []int) []sim.NodeID {
	ids := make([]sim.NodeID, len(ns))
	for i, n := range ns {
		ids[i] = sim.NodeID(n)
	}
	slices.Sort(ids)
	return ids
}
