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
//
// The server each leader target struck is recorded too, and
// ExecutedOnServers writes it in: a timeline that strikes the same servers
// even when an earlier change (a fault dropped by the shrinker) moves the
// leadership. It means less after a code change, so the shrinker offers it
// as an alternative and keeps it only if the failure stays.

// firing is what the step being fired drew.
type firing struct {
	before    Counts
	picks     []sim.NodeID // random targets drawn, in the order resolved
	leaders   []sim.NodeID // servers the leader targets struck, in the order resolved
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

// ExecutedOnServers is Executed with every leader target replaced by the
// server it struck (the leader then, or the server drawn when no leader was
// known).
func (in *Injector) ExecutedOnServers() []Step {
	out := in.Executed()
	for i := range out {
		struck := in.struck[i]
		for _, t := range out[i].targets() {
			if t.Kind == TargetLeader && len(struck) > 0 {
				if struck[0] != sim.None {
					*t = Node(int(struck[0]))
				}
				struck = struck[1:]
			}
		}
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
	in.struck = append(in.struck, in.firing.leaders)
}

// pinShapes writes out the groups, ring order or swizzle orders drawn.
func (in *Injector) pinShapes(p *Step) {
	if k, ok := kindNamed(p.Action()); ok && k.pin != nil {
		k.pin(&in.firing, p)
	}
}

// targets lists the step's target fields in the order the injector resolves
// them when the step fires.
func (s *Step) targets() []*Target {
	if k, ok := kindNamed(s.Action()); ok && k.targets != nil {
		return k.targets(s)
	}
	return nil
}

// clone copies s deeply, so that pinning never writes through to the plan.
func (s Step) clone() Step {
	c := s
	if k, ok := kindNamed(s.Action()); ok && k.clone != nil {
		k.clone(&c)
	}
	return c
}

// TargetsLeader reports whether one of s's targets is "leader".
func (s Step) TargetsLeader() bool {
	return slices.ContainsFunc(s.targets(), func(t *Target) bool { return t.Kind == TargetLeader })
}
