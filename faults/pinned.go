package faults

import (
	"slices"

	"github.com/simrun/simrun/sim"
)

// Pinning: a run's fault timeline, as it actually happened, with every random
// choice made concrete. A repeating step becomes one step per firing, at the
// time it fired; a random target becomes the server drawn; random halves and
// bridges become explicit groups (the bridge in none), a random ring its
// order, a random swizzle its clog and unclog orders; a firing that did nothing (max_down reached, target
// already down) is left out. Leader targets stay "leader": the leader is the
// situation the step means, and after a code change another node may lead.
// Exported failing scenarios and the shrinker work on this timeline, so that
// dropping one fault does not reshuffle where the others strike.

// firing is what the step being fired drew.
type firing struct {
	before    Counts
	picks     []sim.NodeID // random targets drawn, in the order resolved
	groups    [][]int      // groups drawn for a halves or bridge partition
	ring      []int        // order drawn for a random ring
	swizzle   *Swizzle     // orders drawn for a swizzle
	scheduled bool         // the firing scheduled more (a rolling restart): record it even if it changed nothing yet
}

// Executed returns the steps fired so far, pinned, in firing order.
func (in *Injector) Executed() []Step {
	out := make([]Step, len(in.executed))
	for i, s := range in.executed {
		out[i] = s.clone()
	}
	return out
}

// record pins the step that just fired, if it did anything.
func (in *Injector) record(s Step) {
	after := in.counts
	after.Skipped, after.LeaderMisses = in.firing.before.Skipped, in.firing.before.LeaderMisses
	if after == in.firing.before && s.Action() != "heal" && !in.firing.scheduled {
		return // skipped: it changed nothing
	}
	p := s.clone()
	p.At, p.From, p.To, p.Every = Duration(in.w.Now()), 0, 0, 0
	picks := in.firing.picks
	next := func(t *Target) {
		if t.Kind == TargetRandom && len(picks) > 0 {
			*t, picks = Node(int(picks[0])), picks[1:]
		}
	}
	for _, t := range p.targets() {
		next(t)
	}
	in.pinShapes(&p)
	in.executed = append(in.executed, p)
}

// pinShapes writes out the groups, ring order or swizzle orders drawn.
func (in *Injector) pinShapes(p *Step) {
	f := in.firing
	switch {
	case p.Partition != nil && (p.Partition.Halves || p.Partition.Bridge) && f.groups != nil:
		p.Partition.Halves, p.Partition.Bridge, p.Partition.Groups = false, false, f.groups
	case p.Partition != nil && p.Partition.Ring != nil && p.Partition.Ring.Random && f.ring != nil:
		p.Partition.Ring = &Ring{Order: f.ring}
	case p.Swizzle != nil && f.swizzle != nil:
		p.Swizzle = f.swizzle
	}
}

// targets lists the step's target fields in the order the injector resolves
// them when the step fires.
func (s *Step) targets() []*Target {
	ts := []*Target{&s.Crash, &s.Pause, &s.Corrupt}
	if s.Clock != nil {
		ts = append(ts, &s.Clock.Node)
	}
	if s.Disk != nil {
		ts = append(ts, &s.Disk.Node)
	}
	if s.Partition != nil {
		ts = append(ts, &s.Partition.Isolate)
	}
	if s.Cut != nil {
		ts = append(ts, &s.Cut.From, &s.Cut.To)
	}
	if s.Clog != nil {
		ts = append(ts, &s.Clog.Node, &s.Clog.From, &s.Clog.To)
	}
	if s.Link != nil {
		ts = append(ts, &s.Link.From, &s.Link.To)
	}
	return ts
}

// clone copies s deeply, so that pinning never writes through to the plan.
func (s Step) clone() Step {
	c := s
	if s.Partition != nil {
		p := *s.Partition
		p.Groups = make([][]int, len(s.Partition.Groups))
		for i, g := range s.Partition.Groups {
			p.Groups[i] = append([]int(nil), g...)
		}
		if s.Partition.Groups == nil {
			p.Groups = nil
		}
		if s.Partition.Ring != nil {
			r := Ring{Random: s.Partition.Ring.Random, Order: slices.Clone(s.Partition.Ring.Order)}
			p.Ring = &r
		}
		c.Partition = &p
	}
	if s.Cut != nil {
		x := *s.Cut
		c.Cut = &x
	}
	if s.Clog != nil {
		x := *s.Clog
		c.Clog = &x
	}
	if s.Link != nil {
		x := *s.Link
		if x.Latency != nil {
			r := *x.Latency
			x.Latency = &r
		}
		if x.Tail != nil {
			t := *x.Tail
			x.Tail = &t
		}
		if x.Drop != nil {
			d := *x.Drop
			x.Drop = &d
		}
		if x.Duplicate != nil {
			d := *x.Duplicate
			x.Duplicate = &d
		}
		c.Link = &x
	}
	if s.Clock != nil {
		x := *s.Clock
		c.Clock = &x
	}
	if s.Swizzle != nil {
		x := *s.Swizzle
		x.Clog, x.Unclog = slices.Clone(x.Clog), slices.Clone(x.Unclog)
		c.Swizzle = &x
	}
	if s.Disk != nil {
		x := *s.Disk
		if x.SyncLatency != nil {
			r := *x.SyncLatency
			x.SyncLatency = &r
		}
		c.Disk = &x
	}
	return c
}
